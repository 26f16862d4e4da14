"""FHIRPath §5.6 String manipulation: indexOf, substring, startsWith, endsWith, contains,
upper, lower, replace, matches, replaceMatches, length, toChars; and split/join (2.0).

Each applies to a single string input (empty in, empty out); arguments must be single
items and an empty argument gives an empty result.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Final

from .._compiled import C, CallSite, FunctionSpec
from .._runtime import Coll, Ctx, prim, problem, single_string, to_string


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error as exc:
        raise problem("invalid regular expression") from exc


def _text(v: Any, fname: str) -> str:
    s = to_string(v)
    if s is None:
        raise problem(f"{fname}() needs a string argument")
    return s


# Each operation takes the string and the values of its arguments (None where absent)
# and gives the result, None for an empty one.
Operation = Callable[[str, Any, Any], Any]


def _substring(s: str, start: Any, length: Any) -> str | None:
    if type(start) is not int or start < 0 or start >= len(s):
        return None
    if length is None:
        return s[start:]
    if type(length) is not int:
        raise problem("substring() needs Integer arguments")
    return s[start : start + max(length, 0)]


def _starts_with(s: str, p: Any, _: Any) -> bool:
    return s.startswith(_text(p, "startsWith"))


def _ends_with(s: str, p: Any, _: Any) -> bool:
    return s.endswith(_text(p, "endsWith"))


def _contains(s: str, p: Any, _: Any) -> bool:
    return _text(p, "contains") in s


def _index_of(s: str, p: Any, _: Any) -> int:
    return s.find(_text(p, "indexOf"))


def _matches(s: str, p: Any, _: Any) -> bool:
    return _regex(_text(p, "matches")).search(s) is not None


def _replace_matches(s: str, p: Any, r: Any) -> str:
    pattern = _regex(_text(p, "replaceMatches"))
    return pattern.sub(_text(r, "replaceMatches").replace("\\", "\\\\"), s)


def _replace(s: str, p: Any, r: Any) -> str:
    return s.replace(_text(p, "replace"), _text(r, "replace"))


def _length(s: str, _: Any, __: Any) -> int:
    return len(s)


def _upper(s: str, _: Any, __: Any) -> str:
    return s.upper()


def _lower(s: str, _: Any, __: Any) -> str:
    return s.lower()


def _trim(s: str, _: Any, __: Any) -> str:
    return s.strip()


# name -> (least arguments, most arguments, operation)
_OPERATIONS: Final[dict[str, tuple[int, int, Operation]]] = {
    "startsWith": (1, 1, _starts_with),
    "endsWith": (1, 1, _ends_with),
    "contains": (1, 1, _contains),
    "indexOf": (1, 1, _index_of),
    "matches": (1, 1, _matches),
    "replaceMatches": (2, 2, _replace_matches),
    "replace": (2, 2, _replace),
    "substring": (1, 2, _substring),
    "length": (0, 0, _length),
    "upper": (0, 0, _upper),
    "lower": (0, 0, _lower),
    "trim": (0, 0, _trim),
}
_BOOLEAN: Final = frozenset({"startsWith", "endsWith", "contains", "matches"})
_EMPTY: Final[Coll] = []


_ABSENT: Final = object()  # an empty argument: the result is empty


def _no_argument(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
    return _EMPTY


def _argument(coll: Coll, fname: str) -> Any:
    """The value of a single-item argument, :data:`_ABSENT` for an empty one."""
    if not coll:
        return _ABSENT
    if len(coll) > 1:
        raise problem(f"{fname}() arguments must be single items")
    return prim(coll[0])


def _string_operation(site: CallSite) -> C:
    fname = site.name
    op = _OPERATIONS[fname][2]
    n = len(site.args)
    a_fn = site.args[0].fn if n > 0 else _no_argument
    a_const = site.args[0].const if n > 0 else None
    b_fn = site.args[1].fn if n > 1 else _no_argument
    b_const = site.args[1].const if n > 1 else None

    def run(ctx: Ctx, inp: Coll, this: Coll) -> Any:
        """The result, or None for an empty one."""
        s = single_string(inp, fname)
        if s is None:
            return None
        if n == 0:
            return op(s, None, None)
        a = _argument(a_const if a_const is not None else a_fn(ctx, inp, this), fname)
        if a is _ABSENT:
            return None
        if n == 1:
            return op(s, a, None)
        b = _argument(b_const if b_const is not None else b_fn(ctx, inp, this), fname)
        return None if b is _ABSENT else op(s, a, b)

    if fname in _BOOLEAN:
        return site.chain_test(run)

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        result = run(ctx, inp, this)
        return [] if result is None else [result]

    return site.chain(impl)


def _to_chars(site: CallSite) -> C:
    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        s = single_string(inp, "toChars")
        return [] if s is None else list(s)

    return site.chain(impl)


def _split(site: CallSite) -> C:
    sep = site.args[0].fn

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        s = single_string(inp, "split")
        d = single_string(sep(ctx, inp, this), "split")
        if s is None or d is None:
            return []
        return list(s.split(d)) if d else list(s)

    return site.chain(impl)


def _join(site: CallSite) -> C:
    sep = site.args[0].fn if site.args else None

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        d = single_string(sep(ctx, inp, this), "join") if sep is not None else ""
        parts = [to_string(x) for x in inp]
        return [(d or "").join(p for p in parts if p is not None)]

    return site.chain(impl)


FUNCTIONS: Final[dict[str, FunctionSpec]] = {
    **{name: FunctionSpec(_string_operation, lo, hi) for name, (lo, hi, _) in _OPERATIONS.items()},
    "toChars": FunctionSpec(_to_chars),
    "split": FunctionSpec(_split, 1),
    "join": FunctionSpec(_join, 0, 1),
}

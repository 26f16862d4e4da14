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


def _substring(s: str, start: Any, length: Any = None) -> str | None:
    if type(start) is not int or start < 0 or start >= len(s):
        return None
    if length is None:
        return s[start:]
    if type(length) is not int:
        raise problem("substring() needs Integer arguments")
    return s[start : start + max(length, 0)]


def _text(v: Any, fname: str) -> str:
    s = to_string(v)
    if s is None:
        raise problem(f"{fname}() needs a string argument")
    return s


# name -> (least arguments, most arguments, operation on the string and argument values)
_OPERATIONS: Final[dict[str, tuple[int, int, Callable[..., Any]]]] = {
    "startsWith": (1, 1, lambda s, p: s.startswith(_text(p, "startsWith"))),
    "endsWith": (1, 1, lambda s, p: s.endswith(_text(p, "endsWith"))),
    "contains": (1, 1, lambda s, p: _text(p, "contains") in s),
    "indexOf": (1, 1, lambda s, p: s.find(_text(p, "indexOf"))),
    "matches": (1, 1, lambda s, p: _regex(_text(p, "matches")).search(s) is not None),
    "replaceMatches": (
        2, 2, lambda s, p, r: _regex(_text(p, "replaceMatches")).sub(
            _text(r, "replaceMatches").replace("\\", "\\\\"), s
        ),
    ),
    "replace": (2, 2, lambda s, p, r: s.replace(_text(p, "replace"), _text(r, "replace"))),
    "substring": (1, 2, _substring),
    "length": (0, 0, len),
    "upper": (0, 0, str.upper),
    "lower": (0, 0, str.lower),
    "trim": (0, 0, str.strip),
}  # fmt: skip


_BOOLEAN: Final = frozenset({"startsWith", "endsWith", "contains", "matches"})


def _string_operation(site: CallSite) -> C:
    fname = site.name
    op = _OPERATIONS[fname][2]
    arg_fns = [a.fn for a in site.args]
    consts = [a.const for a in site.args]

    def run(ctx: Ctx, inp: Coll, this: Coll) -> Any:
        """The result, or None for an empty one."""
        s = single_string(inp, fname)
        if s is None:
            return None
        values = []
        for fn, const in zip(arg_fns, consts, strict=True):
            coll = const if const is not None else fn(ctx, inp, this)
            if not coll:
                return None
            if len(coll) > 1:
                raise problem(f"{fname}() arguments must be single items")
            values.append(prim(coll[0]))
        return op(s, *values)

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

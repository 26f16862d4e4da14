"""A yes/no pre-check per compiled profile: "would the full profile walk report nothing?".

Each profile element tree (``PElem``) is compiled once into plain closures that follow the
same rules as ``profiles._Run`` but build no ``_Item`` objects, no paths and no issues. They
answer True only when the full walk would report no issue at all (of any severity); for
anything else (a problem, or a shape they do not handle such as primitive ``_name``
extensions, slices told apart by a general discriminator, several profiles on one type)
they answer False and the caller runs the full walk, which then reports exactly as before.
So a True here never changes a result; it only skips the work for conforming values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from conformance.fhir.profiles import (
    _REF_RX,
    _UNSET,
    PElem,
    ProfileError,
    _compare,
    _is_prim,
    _Item,
    _Run,
    _walk_keys,
    binding_ok,
    fixed_matches,
    pattern_matches,
)

if TYPE_CHECKING:
    from conformance.fhir.profiles import ProfileRegistry
    from conformance.fhir.terminology import Expansion

#: (value, concrete type from a choice key or None, resource) -> no issue
ItemOk = Callable[[Any, "str | None", Any], bool]
#: (object holding the element, resource) -> no issue for that element
ChildOk = Callable[[dict[str, Any], Any], bool]
#: (values, their choice types or None, resource) -> no slicing issue
SlicesOk = Callable[[list[Any], "list[str | None] | None", Any], bool]

_QUANTITIES = frozenset({"Quantity", "SimpleQuantity"})
#: how many distinct key lists one choice element remembers
_SHAPES = 512


def _never(*_args: Any) -> bool:
    return False


class FastCompiler:
    """Compiles profile trees of one registry; ``xc`` is ``_Run.extensions_checked``."""

    def __init__(self, reg: ProfileRegistry) -> None:
        self.reg = reg
        self._items: dict[tuple[int, bool], ItemOk] = {}
        self._profiles: dict[tuple[str, bool], ItemOk] = {}

    def profile(self, url: str, xc: bool) -> ItemOk:
        """The pre-check of a whole profile (root item), compiled on first use.

        Unknown or broken profiles answer False (the full walk reports them)."""
        key = (url, xc)
        got = self._profiles.get(key)
        if got is None:
            try:
                prof = self.reg.compiled(url)
            except ProfileError:
                prof = None
            got = _never if prof is None else self.item(prof.root, url, xc)
            self._profiles[key] = got
        return got

    # ------------------------------------------------------------------ items

    def item(self, pe: PElem, source: str, xc: bool) -> ItemOk:
        key = (id(pe), xc)
        got = self._items.get(key)
        if got is None:
            got = self._compile_item(pe, source, xc)
            self._items[key] = got
        return got

    def _compile_item(self, pe: PElem, source: str, xc: bool) -> ItemOk:
        kids = self._children(pe, source, xc)
        if not pe.value_checks:
            if kids is None:
                return _always_item

            def walk_only(value: Any, t: str | None, res: Any) -> bool:
                return kids(value if isinstance(value, dict) else {}, res)

            return walk_only
        tests = self._value_tests(pe, source, xc)
        if len(tests) == 1 and kids is None:
            return tests[0]
        if len(tests) == 1 and kids is not None:
            test, walk = tests[0], kids

            def one_test(value: Any, t: str | None, res: Any) -> bool:
                if not test(value, t, res):
                    return False
                return walk(value if isinstance(value, dict) else {}, res)

            return one_test

        def item_ok(value: Any, t: str | None, res: Any) -> bool:
            for test in tests:
                if not test(value, t, res):
                    return False
            if kids is not None:
                return kids(value if isinstance(value, dict) else {}, res)
            return True

        return item_ok

    def _value_tests(self, pe: PElem, source: str, xc: bool) -> list[ItemOk]:
        """The checks of ``_Run.check_item`` that this element has, in the same order."""
        tests: list[ItemOk] = []
        if pe.type_codes is not None:
            codes = pe.type_codes
            quantity = bool(codes & _QUANTITIES)

            def type_ok(value: Any, t: str | None, res: Any) -> bool:
                if t is None and type(value) is dict:
                    rt = value.get("resourceType")
                    if isinstance(rt, str):
                        t = rt
                if t is None or t in codes:
                    return True
                return quantity and t in _QUANTITIES

            tests.append(type_ok)
        if pe.fixed is not None:
            fixed = pe.fixed
            if type(fixed) is str:  # fixed_matches on a string is plain equality
                tests.append(lambda value, t, res: bool(fixed == value))
            else:
                tests.append(lambda value, t, res: fixed_matches(fixed, value))
        if pe.pattern is not None:
            pattern = pe.pattern
            tests.append(lambda value, t, res: pattern_matches(pattern, value))
        for strength, vs in pe.bindings:
            tests.append(self._binding(strength, vs))
        if pe.min_value is not None:
            low = pe.min_value
            tests.append(lambda value, t, res: _compare(value, low) != -1)
        if pe.max_value is not None:
            high = pe.max_value
            tests.append(lambda value, t, res: _compare(value, high) != 1)
        if pe.target_types is not None:
            targets = pe.target_types

            def target_ok(value: Any, t: str | None, res: Any) -> bool:
                if isinstance(value, dict):
                    ref = value.get("reference")
                    if isinstance(ref, str):
                        m = _REF_RX.fullmatch(ref)
                        if m is not None and m.group(1) not in targets:
                            return False
                return True

            tests.append(target_ok)
        for inv in pe.constraints:
            check = inv.check

            def inv_ok(value: Any, t: str | None, res: Any, check: Any = check) -> bool:
                try:
                    return bool(check(value if value is not None else {}, res, res))
                except Exception:  # the full walk reports the broken expression
                    return False

            tests.append(inv_ok)
        if len(pe.type_profiles) == 1:
            tests.append(self._type_profile(pe.type_profiles[0], xc))
        elif pe.type_profiles:
            tests.append(_never)  # "any one of several": left to the full walk
        return tests

    def _binding(self, strength: str, vs: str) -> ItemOk:
        reg = self.reg

        got: list[Expansion | None] = []

        def bound(value: Any, t: str | None, res: Any) -> bool:
            if not got:  # expanded on first use, as the full walk does
                got.append(reg.expansion(vs))
            exp = got[0]
            return exp is None or binding_ok(value, strength, exp)

        return bound

    def _type_profile(self, url: str, xc: bool) -> ItemOk:
        reg = self.reg
        known = reg.structure_definition(url) is not None
        if not known:
            return _never  # an "unknown profile" warning
        compiler = self

        def typed(value: Any, t: str | None, res: Any) -> bool:
            if xc and type(value) is dict and value.get("url") == url:
                return True  # an extension: checked against its own definition anyway
            if isinstance(value, dict) and isinstance(value.get("resourceType"), str):
                return compiler.profile_typed(url, xc, value, t)
            return compiler.profile(url, xc)(value, t, res)

        return typed

    def profile_typed(self, url: str, xc: bool, value: dict[str, Any], t: str | None) -> bool:
        """A contained/inline resource against a profile named on its element type."""
        try:
            prof = self.reg.compiled(url)
        except ProfileError:
            return False
        if prof is None:
            return True
        if value["resourceType"] != prof.type:
            return False
        return self.profile(url, xc)(value, t, value)

    # --------------------------------------------------------------- children

    def _children(self, pe: PElem, source: str, xc: bool) -> ChildOk | None:
        fns = [self._child(name, child, source, xc) for name, child in pe.children.items()]
        if not fns:
            return None
        if len(fns) == 1:
            return fns[0]

        def kids(obj: dict[str, Any], res: Any) -> bool:
            for fn in fns:  # noqa: SIM110 - a plain loop is faster here
                if not fn(obj, res):
                    return False
            return True

        return kids

    def _child(self, name: str, pe: PElem, source: str, xc: bool) -> ChildOk:
        item = self.item(pe, source, xc)
        slices = self._slices(pe, name, source, xc) if pe.sliced else None
        absent_ok = pe.absent_ok
        counts = pe.counts
        check_min, low = pe.check_min, pe.min
        check_max, high = pe.check_max, pe.max
        banned = high == 0 and not check_max

        def count_ok(n: int) -> bool:
            return not ((check_min and n < low) or (check_max and n > high) or (banned and n > 0))

        one_ok = count_ok(1)  # the count rules for a single (non-array) value
        trivial = item is _always_item  # items have nothing of their own to check

        if name.endswith("[x]"):
            prefix = name[:-3]
            size = len(prefix)

            shapes: dict[tuple[str, ...], tuple[tuple[str, str], ...] | None] = {}

            def keys_of(keys: tuple[str, ...]) -> tuple[tuple[str, str], ...] | None:
                """The keys of the choice (with their type) among an object's keys; None
                when a primitive extension (``_valueString``) is among them."""
                found: list[tuple[str, str]] = []
                for k in keys:
                    if k[0] == "_":
                        if k.startswith(prefix, 1) and len(k) > size + 1 and k[size + 1].isupper():
                            return None
                        continue
                    if k.startswith(prefix) and len(k) > size and k[size].isupper():
                        suffix = k[size:]
                        found.append(
                            (k, suffix[0].lower() + suffix[1:] if _is_prim(suffix) else suffix)
                        )
                return tuple(found)

            def choice(obj: dict[str, Any], res: Any) -> bool:
                keys = tuple(obj)
                found = shapes.get(keys, _UNSET)
                if found is _UNSET:
                    found = keys_of(keys)
                    if len(shapes) < _SHAPES:  # a pure memo on the key list; bounded
                        shapes[keys] = found
                if found is None:
                    return False  # primitive extension: the full walk
                if not found:
                    return absent_ok
                if len(found) == 1:  # the usual case: one key, one value
                    k, t = found[0]
                    v = obj[k]
                    if v is None:
                        return absent_ok
                    if not isinstance(v, list):
                        if not one_ok or not item(v, t, res):
                            return False
                        return slices is None or slices([v], [t], res)
                values: list[Any] = []
                types: list[str | None] = []
                for k, t in found:
                    v = obj[k]
                    if isinstance(v, list):
                        values.extend(v)
                        types.extend([t] * len(v))
                    elif v is not None:
                        values.append(v)
                        types.append(t)
                if not values:
                    return absent_ok
                if counts and not count_ok(len(values)):
                    return False
                for v, vt in zip(values, types, strict=True):
                    if not item(v, vt, res):
                        return False
                return slices is None or slices(values, types, res)

            return choice

        under = "_" + name
        if item is _always_item and slices is None:

            def counted(obj: dict[str, Any], res: Any) -> bool:
                if under in obj:
                    return False  # primitive extension: the full walk
                v = obj.get(name)
                if v is None:
                    return absent_ok
                if type(v) is list:
                    return count_ok(len(v)) if v else absent_ok
                return one_ok

            return counted

        def plain(obj: dict[str, Any], res: Any) -> bool:
            if under in obj:
                return False  # primitive extension: the full walk
            v = obj.get(name)
            if v is None:
                return absent_ok
            if type(v) is list:
                if not v:
                    return absent_ok
                if counts and not count_ok(len(v)):
                    return False
                if not trivial:
                    for x in v:
                        if not item(x, None, res):
                            return False
                return slices is None or slices(v, None, res)
            if not one_ok or not item(v, None, res):
                return False
            return slices is None or slices([v], None, res)

        return plain

    # ---------------------------------------------------------------- slicing

    def _slices(self, pe: PElem, name: str, source: str, xc: bool) -> SlicesOk | None:
        """``_Run.check_slices`` for non-empty item lists (empty ones: ``absent_ok``)."""
        rules = "open"
        if pe.slicing is not None:
            disc, rules = pe.slicing
        elif name in ("extension", "modifierExtension"):
            disc = (("value", "url"),)
        else:
            disc = ()
        closed = rules == "closed"
        if not pe.slices:
            if not closed:
                return None
            return _never_slices
        if not disc:
            return _never_slices  # slicing without discriminators: the full walk decides
        run = _Run(self.reg, source, None)
        matchers: list[Callable[[Any, str | None], bool]] = []
        for s in pe.slices:
            key = (id(s), disc)
            fn = self.reg.matchers.get(key, _UNSET)
            if fn is _UNSET:
                fn = self.reg.matchers[key] = run._compile_matcher(s, disc)
            if fn is not None:
                matchers.append(_plain_matcher(run, s, disc) or _ignore_type(fn))
            elif any(dtype == "profile" for dtype, _ in disc):
                return _never_slices  # conformance to a profile: the full walk
            else:
                matchers.append(_general(run, s, disc))
        parts = [
            (m, s.min, s.max, self.item(s, source, xc))
            for m, s in zip(matchers, pe.slices, strict=True)
        ]
        count = len(parts)

        def sliced(values: list[Any], types: list[str | None] | None, res: Any) -> bool:
            got = [0] * count
            hits: list[tuple[int, int]] = []
            try:
                for index, v in enumerate(values):
                    t = None if types is None else types[index]
                    for i, part in enumerate(parts):
                        if part[0](v, t):
                            got[i] += 1
                            hits.append((i, index))
                            break
                    else:
                        if closed:
                            return False
            except ProfileError:
                # the full walk gives no slice verdicts then, and reports nothing so far
                return True
            for i, part in enumerate(parts):
                n = got[i]
                if (part[1] and n < part[1]) or (part[2] != -1 and n > part[2]):
                    return False
            for i, index in hits:
                if not parts[i][3](values[index], None if types is None else types[index], res):
                    return False
            return True

        return sliced


def _always_item(value: Any, t: str | None, res: Any) -> bool:
    return True


def _never_slices(values: list[Any], types: list[str | None] | None, res: Any) -> bool:
    return False


def _ignore_type(fn: Callable[[Any], bool]) -> Callable[[Any, str | None], bool]:
    return lambda value, t: bool(fn(value))


def _general(
    run: _Run, s: PElem, disc: tuple[tuple[str, str], ...]
) -> Callable[[Any, str | None], bool]:
    """``_Run.matches`` through ``disc_match`` for discriminators that need neither the
    resource nor the item's path (value, pattern, exists, type). A ProfileError it raises
    propagates, and the caller then leaves the verdict to the full walk."""

    def match(value: Any, t: str | None) -> bool:
        it = _Item(value, None, "", "", t)
        return all(run.disc_match(it, s, dtype, dpath) for dtype, dpath in disc)

    return match


def _plain_matcher(
    run: _Run, s: PElem, disc: tuple[tuple[str, str], ...]
) -> Callable[[Any, str | None], bool] | None:
    """``_Run._compile_matcher`` specialised for one or two discriminators of one plain key
    each (``url``; ``system`` and ``code``): the same answers, without the generic walk."""
    tests: list[tuple[tuple[str, ...], str]] = []
    for _dtype, dpath in disc:
        expected = run.expected(s, dpath)
        if expected is None or type(expected[1]) is not str:
            return None
        tests.append((tuple(dpath.split(".")), expected[1]))

    def has(value: Any, keys: tuple[str, ...], want: str) -> bool:
        if len(keys) > 1:
            return want in _walk_keys(value, keys)
        key = keys[0]
        if type(value) is not dict or key not in value:
            return False
        got = value[key]
        return want in got if type(got) is list else want in (got,)

    if len(tests) == 1:
        k1, w1 = tests[0]
        return lambda value, t: has(value, k1, w1)
    if len(tests) == 2:
        (k1, w1), (k2, w2) = tests
        return lambda value, t: has(value, k1, w1) and has(value, k2, w2)
    return None

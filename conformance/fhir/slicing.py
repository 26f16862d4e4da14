"""Slicing: which slice an item of a sliced element belongs to (R4 §5.1.0.14, Profiling).

Each slice of a sliced element is compiled once into a *matcher* ``(value, type, resource)
-> bool`` from the slicing's discriminators (``value``, ``pattern``, ``exists``, ``type``,
``profile``) and the slice's own constraints at the discriminator paths. A discriminator
that cannot be evaluated offline makes the matcher raise :class:`ProfileError`; the
profile check then gives no slice verdict for that element. :func:`slicing_rule` then
gives each item to the first slice it matches and checks each slice's cardinality and
its items (with the item rules :mod:`conformance.fhir.profile_check` compiles).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from conformance.fhir.bindings import in_expansion
from conformance.fhir.issues import FhirIssue, Found, joined, moved
from conformance.fhir.profile_model import PElem, ProfileError
from conformance.fhir.terminology import Expansion
from conformance.fhir.values import fixed_matches, pattern_matches

#: (value, its type when known from a choice key, %resource) -> in the slice?
Matcher = Callable[[Any, "str | None", Any], bool]
#: (discriminator type, path) pairs of a slicing
Discriminators = tuple[tuple[str, str], ...]

#: extensions are sliced by url when the profile says nothing else
EXTENSION_SLICING: Discriminators = (("value", "url"),)

_SEGMENT = re.compile(r"[^.(]+(?:\([^)]*\))?")
_EXT_FN = re.compile(r"extension\('([^']*)'\)")
_PLAIN_PATH = re.compile(r"[a-z][A-Za-z0-9]*(?:\.[a-z][A-Za-z0-9]*)*")


@cache
def _path_segments(path: str) -> tuple[tuple[str, str | None], ...]:
    out: list[tuple[str, str | None]] = []
    for seg in _SEGMENT.findall(path):
        m = _EXT_FN.fullmatch(seg)
        out.append(("ext", m.group(1)) if m is not None else (seg, None))
    return tuple(out)


def walk_keys(value: Any, keys: tuple[str, ...]) -> list[Any]:
    """:func:`navigate` for a path of plain element names."""
    cur = [value]
    for k in keys:
        nxt: list[Any] = []
        for v in cur:
            if type(v) is dict and k in v:
                got = v[k]
                if type(got) is list:
                    nxt.extend(got)
                else:
                    nxt.append(got)
        cur = nxt
    return cur


def navigate(values: list[Any], path: str) -> list[Any]:
    """Follow a simple FHIRPath (a.b, extension('url'), $this, resolve-free) over JSON."""
    if path in ("$this", ""):
        return values
    cur = values
    for seg, ext_url in _path_segments(path):
        nxt: list[Any] = []
        if ext_url is not None:
            for v in cur:
                for ext in (v.get("extension") or []) if isinstance(v, dict) else []:
                    if isinstance(ext, dict) and ext.get("url") == ext_url:
                        nxt.append(ext)
        elif seg.startswith("ofType(") or seg.startswith("as("):
            nxt = cur
        elif "(" in seg:
            raise ProfileError(f"unsupported discriminator path function {seg}")
        else:
            for v in cur:
                if not isinstance(v, dict):
                    continue
                if seg in v:
                    got = v[seg]
                    nxt.extend(got if isinstance(got, list) else [got])
                elif seg.endswith("[x]") or seg == "value":
                    base = seg[:-3] if seg.endswith("[x]") else seg
                    for k, got in v.items():
                        if k.startswith(base) and len(k) > len(base) and k[len(base)].isupper():
                            nxt.extend(got if isinstance(got, list) else [got])
        cur = nxt
    return cur


def element_at(s: PElem, dpath: str) -> PElem | None:
    """The element of a slice at a discriminator path (None when the slice says nothing
    of it)."""
    if dpath in ("$this", ""):
        return s
    cur: PElem | None = s
    for seg in dpath.split("."):
        if cur is None:
            return None
        if seg.startswith(("ofType(", "as(")) or seg == "resolve()":
            continue
        nxt = cur.children.get(seg)
        if nxt is None:
            nxt = cur.children.get(seg + "[x]")
        cur = nxt
    return cur


def expected(s: PElem, dpath: str) -> tuple[str, Any] | None:
    """("fixed" | "pattern", value) a slice requires at a discriminator path, if any."""
    if dpath in ("$this", ""):
        if s.fixed is not None:
            return "fixed", s.fixed
        if s.pattern is not None:
            return "pattern", s.pattern
        return None
    if dpath == "url" and "url" not in s.children and s.type_profiles:
        return "fixed", s.type_profiles[0]
    segs = dpath.split(".")
    cur = s
    for i, seg in enumerate(segs):
        m = _EXT_FN.fullmatch(seg)
        if m is not None:
            extension = cur.children.get("extension")
            ext = next(
                (
                    x
                    for x in (extension.slices if extension is not None else ())
                    if m.group(1) in x.type_profiles or _fixed_url(x) == m.group(1)
                ),
                None,
            )
            if ext is None:
                return None
            cur = ext
            continue
        if cur.fixed is not None or cur.pattern is not None:
            rest = ".".join(segs[i:])
            base_val = cur.fixed if cur.fixed is not None else cur.pattern
            vals = navigate([base_val], rest)
            if not vals:
                return None
            return ("fixed" if cur.fixed is not None else "pattern"), vals[0]
        nxt = cur.children.get(seg)
        if nxt is None:
            return None
        cur = nxt
    if cur.fixed is not None:
        return "fixed", cur.fixed
    if cur.pattern is not None:
        return "pattern", cur.pattern
    return None


def _fixed_url(pe: PElem) -> Any:
    u = pe.children.get("url")
    return u.fixed if u is not None else None


def _failing(message: str) -> Matcher:
    def never(value: Any, t: str | None, res: Any) -> bool:
        raise ProfileError(message)

    return never


class SliceMatchers:
    """Compiles slice matchers. ``expansion`` expands a value set (for discriminators that
    only a binding tells apart); ``conforms`` says whether a value conforms to a profile
    (None when the profile is unknown)."""

    def __init__(
        self,
        expansion: Callable[[str], Expansion | None],
        conforms: Callable[[Any, str, Any], bool | None],
    ) -> None:
        self.expansion = expansion
        self.conforms = conforms

    def matcher(self, s: PElem, disc: Discriminators) -> Matcher:
        """The matcher of slice ``s`` under the discriminators ``disc``."""
        if not disc:
            return _failing("slicing without discriminators")
        plain = _plain_strings(s, disc)
        if plain is not None:
            return plain
        tests = [self._discriminator(s, dtype, dpath) for dtype, dpath in disc]
        if len(tests) == 1:
            return tests[0]

        def every(value: Any, t: str | None, res: Any) -> bool:
            return all(test(value, t, res) for test in tests)

        return every

    def _discriminator(self, s: PElem, dtype: str, dpath: str) -> Matcher:
        if dtype in ("value", "pattern"):
            try:
                want = expected(s, dpath)
            except ProfileError as exc:
                return _failing(str(exc))
            if want is None:
                return self._by_binding(s, dpath)
            kind, wanted = want
            match = fixed_matches if kind == "fixed" and dtype == "value" else pattern_matches

            def valued(value: Any, t: str | None, res: Any) -> bool:
                return any(match(wanted, v) for v in navigate([value], dpath))

            return valued
        if dtype == "exists":
            target = element_at(s, dpath)
            if target is None:
                return _failing(f"cannot evaluate discriminator {dpath}")
            if target.min >= 1:
                return lambda value, t, res: bool(navigate([value], dpath))
            if target.max == 0:
                return lambda value, t, res: not navigate([value], dpath)
            return _failing(f"exists discriminator {dpath} says nothing")
        if dtype == "type":
            target = element_at(s, dpath)
            if target is None or target.decl_types is None:
                return _failing(f"cannot evaluate discriminator {dpath}")
            types = target.decl_types

            def typed(value: Any, t: str | None, res: Any) -> bool:
                if dpath == "$this" and t is not None:
                    return t in types
                values = navigate([value], dpath) if dpath != "$this" else [value]
                return any(isinstance(v, dict) and v.get("resourceType") in types for v in values)

            return typed
        if dtype == "profile":
            target = element_at(s, dpath)
            if target is None or not target.type_profiles:
                return _failing(f"cannot evaluate discriminator {dpath}")
            urls = target.type_profiles
            conforms = self.conforms

            def profiled(value: Any, t: str | None, res: Any) -> bool:
                values = [value] if dpath == "$this" else navigate([value], dpath)
                for v in values:
                    for url in urls:
                        ok = conforms(v, url, res)
                        if ok is None:
                            raise ProfileError(f"profile {url} unknown")
                        if ok:
                            return True
                return False

            return profiled
        return _failing(f"unsupported discriminator type {dtype}")

    def _by_binding(self, s: PElem, dpath: str) -> Matcher:
        """A value discriminator the slice fixes by a required binding, not a value."""
        target = element_at(s, dpath)
        binding = None
        if target is not None and target.binding is not None and target.binding[0] == "required":
            binding = self.expansion(target.binding[1])
        if binding is None:
            return _failing(f"cannot evaluate discriminator {dpath}")
        exp = binding

        def bound(value: Any, t: str | None, res: Any) -> bool:
            return any(in_expansion(v, exp) for v in navigate([value], dpath))

        return bound


def _plain_strings(s: PElem, disc: Discriminators) -> Matcher | None:
    """The usual slicing (coding.system and code, url, system): slices told apart by fixed
    strings at plain paths, matched without the general navigation. None otherwise."""
    tests: list[tuple[tuple[str, ...], str]] = []
    for dtype, dpath in disc:
        if dtype not in ("value", "pattern") or not _PLAIN_PATH.fullmatch(dpath):
            return None
        want = expected(s, dpath)
        if want is None or type(want[1]) is not str:
            return None
        keys = tuple(dpath.split("."))
        if "value" in keys:
            return None  # navigate reads 'value' as a choice
        tests.append((keys, want[1]))

    def has(value: Any, keys: tuple[str, ...], want: str) -> bool:
        if len(keys) > 1:
            return want in walk_keys(value, keys)
        key = keys[0]
        if type(value) is not dict or key not in value:
            return False
        got = value[key]
        return want in got if type(got) is list else want == got

    if len(tests) == 1:
        k1, w1 = tests[0]
        return lambda value, t, res: has(value, k1, w1)
    if len(tests) == 2:
        (k1, w1), (k2, w2) = tests
        return lambda value, t, res: has(value, k1, w1) and has(value, k2, w2)
    return lambda value, t, res: all(want in walk_keys(value, keys) for keys, want in tests)


# ------------------------------------------------------------- slice verdicts

#: (value, the primitive's _name object, its type, %resource) -> issues, as profile checks
ItemRule = Callable[[Any, Any, "str | None", Any], "list[Found] | None"]
#: one occurrence of an element: (value, _name object, key, index or -1, type or None)
Item = tuple[Any, Any, str, int, "str | None"]
#: (the items' values, the items or None for a plain array, %resource) -> issues
SlicingRule = Callable[[list[Any], "list[Item] | None", Any], "list[Found] | None"]
_EXTENSIONS = ("extension", "modifierExtension")


def item_path(key: str, idx: int) -> str:
    """An item's path relative to the object holding it."""
    return f".{key}" if idx < 0 else f".{key}[{idx}]"


def slicing_rule(
    pe: PElem,
    name: str,
    source: str,
    matchers: SliceMatchers,
    rule_of: Callable[[PElem], ItemRule | None],
) -> SlicingRule | None:
    """Items given to the first slice they match; each slice's cardinality and its
    items' checks. A discriminator that cannot be evaluated: no slice verdict."""
    disc: Discriminators
    closed = False
    if pe.slicing is not None:
        disc, rule = pe.slicing
        closed = rule == "closed"
    elif name in _EXTENSIONS:
        disc = EXTENSION_SLICING
    else:
        disc = ()
    if not pe.slices and not closed:
        return None
    at = "." + name
    slice_matchers = tuple(matchers.matcher(s, disc) for s in pe.slices)
    slice_rules = tuple(rule_of(s) for s in pe.slices)
    bounds = tuple((s.min, s.max) for s in pe.slices)
    counters = tuple(_slice_counter(s, at, source) for s in pe.slices)
    unmatched = "Item matches none of the slices and the slicing is closed"

    def sliced(values: list[Any], items: list[Item] | None, res: Any) -> list[Found] | None:
        """``values``: the items' values; ``items``: the items, or None for the values
        of a plain array (``name[i]``, no _name objects, no choice types)."""
        out: list[Found] | None = None
        hits: list[tuple[int, int]] = []  # (slice, position) for each item that matched
        try:
            for p, value in enumerate(values):
                t = None if items is None else items[p][4]
                for i, match in enumerate(slice_matchers):
                    if match(value, t, res):
                        hits.append((i, p))
                        break
                else:
                    if closed:
                        where = at + f"[{p}]" if items is None else item_path(*items[p][2:4])
                        issue = FhirIssue("error", "slice-unmatched", where, unmatched, source)
                        out = joined(out, [issue])
        except ProfileError:
            return out  # a discriminator we cannot evaluate offline
        for i, rule in enumerate(slice_rules):
            low, high = bounds[i]
            if low or high != -1:
                n = 0
                for j, _p in hits:
                    if j == i:
                        n += 1
                if (low and n < low) or (high != -1 and n > high):
                    out = joined(out, counters[i](n))
            if rule is not None:
                for j, p in hits:
                    if j != i:
                        continue
                    if items is None:
                        found = rule(values[p], None, None, res)
                        where = at + f"[{p}]"
                    else:
                        value, ext, key, idx, t = items[p]
                        found = rule(value, ext, t, res)
                        where = item_path(key, idx)
                    if found is not None:
                        out = joined(out, moved(where, found))
        return out

    return sliced


def _slice_counter(s: PElem, at: str, source: str) -> Callable[[int], list[Found]]:
    """The issues of a slice matched by ``n`` items, outside its cardinality."""
    low, high, label = s.min, s.max, s.slice_name

    def counted(n: int) -> list[Found]:
        out: list[Found] = []
        if low and n < low:
            message = f"Slice '{label}' requires at least {low} item(s); found {n}"
            out.append(FhirIssue("error", "slice-cardinality", at, message, source))
        if high != -1 and n > high:
            message = f"Slice '{label}' allows at most {high} item(s); found {n}"
            out.append(FhirIssue("error", "slice-cardinality", at, message, source))
        return out

    return counted

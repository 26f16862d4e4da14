"""Slice discriminators (R4 §5.1.0.14 and profiling.html#discriminator): which slice an
item of a sliced element belongs to.

Each slice is compiled once into a *matcher* ``(value, type, resource) -> bool`` from the
slicing's discriminators and what the slice says at each discriminator path:

- ``value`` / ``pattern``: the slice's fixed or pattern value there (UCUM-aware for a
  Quantity), or its required binding;
- ``exists``: the element is required (min >= 1) or forbidden (max = 0) there;
- ``type``: the types the slice allows there (the resolved resource's, after resolve());
- ``profile``: the item there (or the resolved resource) conforms to the slice's profile.

A discriminator path the slice does not constrain matches anything, as the HL7 validator
does: the slice is told apart by its other discriminators. A slice that cannot be told
apart at all (no discriminator it constrains, an unsupported discriminator type or path
function, a path base R4 does not have) gets a matcher raising :class:`ProfileError`, as
does one whose test needs what is not available offline (an unknown profile, a reference
that does not resolve in the resource or its Bundle); :mod:`conformance.fhir.slicing`
turns that into a warning naming the slice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from functools import cache
from typing import Any

from conformance.fhir.bindings import in_expansion
from conformance.fhir.profile_model import CORE_SD, PElem, ProfileError, find_element
from conformance.fhir.terminology import Expansion, strip_version
from conformance.fhir.values import value_matcher

#: (value, its type when known from a choice key, %resource) -> in the slice?
Matcher = Callable[[Any, "str | None", Any], bool]
#: (discriminator type, path) pairs of a slicing
Discriminators = tuple[tuple[str, str], ...]
#: a discriminator path as steps: (element name, None), ("ext", url), (function, argument)
Steps = tuple[tuple[str, "str | None"], ...]
#: a value met walking a path, and its type when known (lower case)
Typed = tuple[Any, "str | None"]

_SEGMENT = re.compile(r"[^.(]+(?:\([^)]*\))?")
_FUNCTION = re.compile(r"([A-Za-z]+)\((.*)\)")
_FUNCTIONS = frozenset({"ext", "ofType", "as", "resolve"})
_PLAIN_PATH = re.compile(r"[a-z][A-Za-z0-9]*(?:\.[a-z][A-Za-z0-9]*)*")


@cache
def path_steps(path: str) -> Steps:
    """``code.coding``, ``extension('u').value``, ``value.ofType(Quantity)``, ``resolve()``
    as steps; an unknown function is kept as a step :func:`navigate` refuses."""
    out: list[tuple[str, str | None]] = []
    for seg in _SEGMENT.findall(path):
        m = _FUNCTION.fullmatch(seg)
        if m is None:
            out.append((seg, None))
            continue
        name, arg = m.group(1), m.group(2).strip().strip("'\"")
        out.append(("ext" if name == "extension" else name, arg))
    return tuple(out)


def start(value: Any, t: str | None) -> list[Typed]:
    """What :func:`navigate` starts from: an item and its type (from its choice key)."""
    return [(value, None if t is None else t.lower())]


def _type_of(value: Any, t: str | None) -> str | None:
    if type(value) is dict and type(value.get("resourceType")) is str:
        return str(value["resourceType"]).lower()
    return t


def navigate(items: list[Typed], path: str, res: Any) -> list[Typed]:
    """Follow a discriminator path (``a.b``, ``extension('url')``, ``ofType(T)``,
    ``resolve()``) over JSON values, keeping each value's type where a choice key or a
    resourceType tells it. Raises ProfileError for what cannot be followed offline."""
    cur = items
    steps = path_steps(path)
    for i, (seg, arg) in enumerate(steps):
        nxt: list[Typed] = []
        if seg == "$this":
            continue
        if seg == "ext":
            for v, _t in cur:
                for ext in _listed(v.get("extension")) if type(v) is dict else ():
                    if type(ext) is dict and ext.get("url") == arg:
                        nxt.append((ext, "extension"))
        elif seg in ("ofType", "as"):
            want = (arg or "").lower()
            nxt = [(v, t) for v, t in cur if (_type_of(v, t) or want) == want]
        elif seg == "resolve":
            nxt = [(r, _type_of(r, None)) for v, _t in cur if (r := resolve(v, res)) is not None]
        elif arg is not None or seg in _FUNCTIONS or "(" in seg:
            raise ProfileError(f"the path function {seg}() is not supported")
        else:
            base = seg[:-3] if seg.endswith("[x]") else seg
            # value[x] read through its typed keys (valueQuantity); 'value' as in Extension
            after = steps[i + 1][0] if i + 1 < len(steps) else ""
            choice = base != seg or seg == "value" or after in ("ofType", "as")
            for v, _t in cur:
                if type(v) is not dict:
                    continue
                if base in v:
                    got = v[base]
                    nxt.extend((g, None) for g in (got if type(got) is list else [got]))
                    continue
                if not choice:
                    continue
                for k, got in v.items():
                    if k.startswith(base) and len(k) > len(base) and k[len(base)].isupper():
                        t = k[len(base) :].lower()
                        nxt.extend((g, t) for g in (got if type(got) is list else [got]))
        cur = nxt
    return cur


def resolve(reference: Any, res: Any) -> Any:
    """The resource a Reference points at, within the resource (``#id``: a contained
    resource) or the Bundle it is in (by fullUrl or ``Type/id``); None when it has no
    reference; raises ProfileError when it cannot be resolved offline."""
    if type(reference) is not dict:
        return None
    ref = reference.get("reference")
    if type(ref) is not str:
        return None
    if type(res) is dict:
        if ref.startswith("#"):
            for c in _listed(res.get("contained")):
                if type(c) is dict and c.get("id") == ref[1:]:
                    return c
        elif res.get("resourceType") == "Bundle":
            for entry in _listed(res.get("entry")):
                if type(entry) is not dict or type(entry.get("resource")) is not dict:
                    continue
                r, full = entry["resource"], entry.get("fullUrl")
                if full == ref or ref == f"{r.get('resourceType')}/{r.get('id')}":
                    return r
                if type(full) is str and full.endswith("/" + ref) and "://" not in ref:
                    return r  # relative to the entry's base
    raise ProfileError("the reference does not resolve within the resource or its Bundle")


def _listed(value: Any) -> list[Any]:
    """An array of the resource as a list (anything else, as from a broken resource: none)."""
    return value if type(value) is list else []


def _fixed_url(pe: PElem) -> Any:
    u = pe.children.get("url")
    return u.fixed if u is not None else None


#: the elements an element restates, itself first (see PElem.inherits and PElem.via)
Lineage = Callable[[PElem], "list[PElem]"]


def criteria(s: PElem, steps: Steps, lineage: Lineage) -> list[PElem]:
    """The elements of slice ``s`` at a discriminator path: through the children and,
    where an element on the way is itself sliced, through its slices too (a BP component
    slice fixes ``code.coding.code`` in its ``code.coding`` slice); each followed by
    what it restates, for what a differential leaves unsaid."""
    cur = lineage(s)
    first = True  # the slice (and what it restates): not its sibling slices
    for i, (seg, arg) in enumerate(steps):
        nxt: list[PElem] = []
        if seg in ("$this", "resolve", "as", "ofType"):
            continue
        following = steps[i + 1] if i + 1 < len(steps) else ("", None)
        names = [seg, seg + "[x]"]
        if following[0] == "ofType" and following[1]:
            t = following[1]
            names.insert(0, seg + t[0].upper() + t[1:])
        for pe in cur:
            for holder in (pe,) if first else (pe, *pe.slices):
                if seg == "ext":
                    extension = holder.children.get("extension")
                    for x in extension.slices if extension is not None else ():
                        if arg in x.decl_profiles or any(_fixed_url(y) == arg for y in lineage(x)):
                            nxt.extend(lineage(x))
                    continue
                for name in names:
                    child = holder.children.get(name)
                    if child is not None:
                        nxt.extend(lineage(child))
                        break
        cur, first = nxt, False
    return cur


def _inside_value(s: PElem, steps: Steps) -> tuple[str, Any, bool] | None:
    """(kind, value, quantity) where an element on the path (the slice itself included)
    fixes or patterns a value that the rest of the path leads into: a slice with
    ``patternCodeableConcept`` on ``code`` and the discriminator ``code.coding.code``."""
    cur = s
    for i, (seg, arg) in enumerate(steps):
        if seg in ("$this", "ofType", "as"):
            continue
        if cur.fixed is not None or cur.pattern is not None:
            rest = ".".join(a for a, _b in steps[i:] if a not in ("$this", "ofType", "as"))
            if any(a in ("ext", "resolve") for a, _b in steps[i:]):
                return None
            kind = "fixed" if cur.fixed is not None else "pattern"
            vals = navigate(
                [(cur.fixed if cur.fixed is not None else cur.pattern, None)], rest, None
            )
            return (kind, vals[0][0], False) if vals else None
        if seg in ("ext", "resolve") or arg is not None:
            return None
        nxt = cur.children.get(seg)
        if nxt is None:
            return None
        cur = nxt
    return None


def _anything(value: Any, t: str | None, res: Any) -> bool:
    return True


def _failing(message: str) -> Matcher:
    def never(value: Any, t: str | None, res: Any) -> bool:
        raise ProfileError(message)

    return never


#: the base R4 definition row of an element path (None when base R4 has no such element)
BaseRow = Callable[[str], "list[Any] | None"]


def path_resolves(base_row: BaseRow, types: Container[str], path: str, steps: Steps) -> bool:
    """Whether a discriminator path names an element of base R4 from the element at
    ``path``; True when ``path`` itself is not in base R4 (a broken profile: nothing to
    say of its discriminators)."""
    if "." in path:
        if base_row(path) is None:
            return True
    elif path not in types:
        return True
    cur = path
    for seg, arg in steps:
        if seg == "resolve":
            return True  # a resource of any type
        if seg == "ext":
            cur = "Extension"
        elif seg in ("ofType", "as"):
            if not arg:
                return False
            cur = arg
        elif seg != "$this":
            for name in (seg, seg + "[x]"):
                if base_row(f"{cur}.{name}") is not None:
                    cur = f"{cur}.{name}"
                    break
            else:
                return False
    return True


#: whether a discriminator path names an element of base R4 from an element's path
Resolves = Callable[[str, Steps], bool]


class SliceMatchers:
    """Compiles slice matchers. ``expansion`` expands a value set (for discriminators that
    only a binding tells apart); ``conforms`` says whether a value conforms to a profile
    (None when the profile is unknown); ``resolves`` whether a discriminator path is an
    element path of base R4."""

    def __init__(
        self,
        expansion: Callable[[str], Expansion | None],
        conforms: Callable[[Any, str, Any], bool | None],
        resolves: Resolves | None = None,
        profile_root: Callable[[str], PElem | None] | None = None,
    ) -> None:
        self.expansion = expansion
        self.conforms = conforms
        self.resolves = resolves
        self.profile_root = profile_root

    def lineage(self, pe: PElem) -> list[PElem]:
        """``pe``, then the elements it restates (:attr:`PElem.inherits`, and through
        :attr:`PElem.via` the profile on its type), nearest first."""
        out: list[PElem] = []
        cur: PElem | None = pe
        while cur is not None and len(out) < 16:
            out.append(cur)
            if cur.via is not None and self.profile_root is not None:
                root = self.profile_root(cur.via[0])
                found = find_element(root, cur.via[1]) if root is not None else None
                if found is not None and found not in out:
                    out.append(found)
            cur = cur.inherits
        return out

    def matcher(self, s: PElem, disc: Discriminators) -> Matcher:
        """The matcher of slice ``s`` under the discriminators ``disc``."""
        if not disc:
            return _failing("the slicing has no discriminator")
        plain = _plain_strings(s, disc, self.lineage)
        if plain is not None:
            return plain
        tests: list[Matcher] = []
        for dtype, dpath in disc:
            steps = path_steps(dpath)
            if any(a is not None and f not in _FUNCTIONS for f, a in steps):
                return _failing(f"the discriminator path '{dpath}' uses an unsupported function")
            if self.resolves is not None and not self.resolves(s.path, steps):
                return _failing(f"the discriminator path '{dpath}' is not an element path")
            if any(f == "resolve" for f, _a in steps[:-1]):
                return _failing(f"the discriminator path '{dpath}' goes on after resolve()")
            try:
                test = self._discriminator(s, dtype, dpath, steps)
            except ProfileError as exc:
                return _failing(str(exc))
            if test is not None:
                tests.append(test)
        if not tests:
            paths = ", ".join(f"'{p}'" for _t, p in disc)
            return _failing(f"the slice constrains none of its discriminator paths ({paths})")
        if len(tests) == 1:
            return tests[0]
        every = tuple(tests)
        return lambda value, t, res: all(test(value, t, res) for test in every)

    def _discriminator(self, s: PElem, dtype: str, dpath: str, steps: Steps) -> Matcher | None:
        """The test of one discriminator; None when the slice does not constrain its path."""
        if dtype not in ("value", "pattern", "exists", "type", "profile"):
            raise ProfileError(f"the discriminator type '{dtype}' is not supported")
        found = criteria(s, steps, self.lineage)
        if found and found[0].max == 0:  # the nearest definition forbids the element
            return lambda value, t, res: not navigate(start(value, t), dpath, res)
        if dtype in ("value", "pattern"):
            return self._valued(s, dtype, dpath, steps, found)
        if dtype == "exists":
            if any(pe.min >= 1 for pe in found):
                return lambda value, t, res: bool(navigate(start(value, t), dpath, res))
            return None
        resolved = bool(steps) and steps[-1][0] == "resolve"
        if dtype == "type":
            types: set[str] = set()
            for pe in found:
                declared = pe.decl_target_types if resolved else pe.decl_types or ()
                types.update(x.lower() for x in declared)
                if types:
                    break
            if "*" in types:
                raise ProfileError("a target profile of the slice is not known")
            if not types or "resource" in types:
                return _anything  # the element's own type: every item has it
            if "simplequantity" in types:
                types.add("quantity")  # a profile of Quantity: valueQuantity
            allowed = frozenset(types)

            def typed(value: Any, t: str | None, res: Any) -> bool:
                got = navigate(start(value, t), dpath, res)
                return any((_type_of(v, vt) or "") in allowed for v, vt in got)

            return typed
        urls = next(
            (u for pe in found if (u := pe.decl_targets if resolved else pe.decl_profiles)), ()
        )
        if not urls:
            return None
        return self._profiled(dpath, urls)

    def _valued(
        self, s: PElem, dtype: str, dpath: str, steps: Steps, found: list[PElem]
    ) -> Matcher | None:
        inside = _inside_value(s, steps)
        want: tuple[str, Any, bool] | None = inside
        if want is None:
            for pe in found:
                if pe.fixed is not None:
                    want = ("fixed", pe.fixed, pe.quantity)
                elif pe.pattern is not None:
                    want = ("pattern", pe.pattern, pe.quantity)
                if want is not None:
                    break
        if want is None and dpath == "url":  # an extension slice by its profile
            named = next((x for x in self.lineage(s) if x.type_profiles), None)
            if named is not None:
                want = ("fixed", strip_version(named.type_profiles[0]), False)
        if want is not None:
            kind, wanted, quantity = want
            match = value_matcher(kind if dtype == "value" else "pattern", wanted, quantity)
            return lambda value, t, res: any(
                match(v) for v, _t in navigate(start(value, t), dpath, res)
            )
        for pe in found:
            if pe.binding is not None and pe.binding[0] == "required":
                exp = self.expansion(pe.binding[1])
                if exp is None:
                    raise ProfileError(f"the value set {pe.binding[1]} cannot be expanded")
                bound = exp
                return lambda value, t, res: any(
                    in_expansion(v, bound) for v, _t in navigate(start(value, t), dpath, res)
                )
        return None

    def _profiled(self, dpath: str, urls: tuple[str, ...]) -> Matcher:
        conforms = self.conforms

        def profiled(value: Any, t: str | None, res: Any) -> bool:
            for v, _vt in navigate(start(value, t), dpath, res):
                resource = type(v) is dict and type(v.get("resourceType")) is str
                for url in urls:
                    ok = conforms(v, url, v if resource else res)
                    if ok is None and url.startswith(CORE_SD) and resource:
                        ok = v["resourceType"] == url[len(CORE_SD) :]
                    if ok is None:
                        raise ProfileError(f"the profile {url} is not known")
                    if ok:
                        return True
            return False

        return profiled


def _plain_strings(s: PElem, disc: Discriminators, lineage: Lineage) -> Matcher | None:
    """The usual slicing (coding.system and code, url, system): slices told apart by fixed
    strings at plain paths, matched without the general navigation. None otherwise."""
    tests: list[tuple[tuple[str, ...], str]] = []
    for dtype, dpath in disc:
        if dtype not in ("value", "pattern") or not _PLAIN_PATH.fullmatch(dpath):
            return None
        keys = tuple(dpath.split("."))
        if "value" in keys:
            return None  # navigate reads 'value' as a choice
        found = criteria(s, path_steps(dpath), lineage)
        if found and found != lineage(found[0]):
            return None  # several elements (slices on the way): the general matcher
        if any(x.max == 0 or x.quantity for x in found):
            return None
        here = next((x for x in found if x.fixed is not None or x.pattern is not None), None)
        want = None if here is None else here.fixed if here.fixed is not None else here.pattern
        if want is None and dpath == "url" and s.type_profiles and "url" not in s.children:
            want = strip_version(s.type_profiles[0])
        if type(want) is not str:
            return None
        tests.append((keys, want))

    if len(tests) == 1:
        k1, w1 = tests[0]
        return lambda value, t, res: _holds(value, k1, 0, w1)
    if len(tests) == 2:
        (k1, w1), (k2, w2) = tests
        return lambda value, t, res: _holds(value, k1, 0, w1) and _holds(value, k2, 0, w2)
    every = tuple(tests)
    return lambda value, t, res: all(_holds(value, keys, 0, want) for keys, want in every)


def _holds(value: Any, keys: tuple[str, ...], i: int, want: str) -> bool:
    """Whether the plain path ``keys[i:]`` leads from ``value`` to ``want`` (no lists
    built on the way: the per-item cost of the usual slicing)."""
    if type(value) is not dict:
        return False
    got = value.get(keys[i])
    if got is None:
        return False
    if i == len(keys) - 1:
        return want in got if type(got) is list else want == got
    if type(got) is list:
        for g in got:  # noqa: SIM110 - no generator per item on the hot path
            if _holds(g, keys, i + 1, want):
                return True
        return False
    return _holds(got, keys, i + 1, want)

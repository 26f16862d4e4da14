"""Profile (StructureDefinition constraint) validation.

A profile is compiled once into a tree of ``PElem`` (one per element id, slices hanging off
their sliced element). Only what the profile adds to base R4 is checked here (narrowed
cardinality, types, fixed/pattern values, bindings, invariants, slicing, extensions): the
base walk has already reported base-level problems, so nothing is reported twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from conformance.fhir._model import (
    NATIVE_INVARIANTS,
    Invariant,
    Model,
    _lazy_invariant,
    core_codesystem,
    core_data,
    core_expansion,
    core_profiles,
)
from conformance.fhir.definitions import DefinitionSet
from conformance.fhir.terminology import CodeSystemInfo, Expander, Expansion, strip_version
from conformance.fhir.validator import FhirIssue

if TYPE_CHECKING:
    from conformance.fhir._profile_fast import FastCompiler

CORE_SD = "http://hl7.org/fhir/StructureDefinition/"
_NUMERIC = (int, float)
_REF_RX = re.compile(
    r"(?:https?://\S*/)?([A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?"
)


def _has_value(f: dict[str, Any]) -> bool:
    for k in f:  # noqa: SIM110 - a plain loop: this runs for every vital sign
        if k.startswith("value") and len(k) > 5 and k[5].isupper():
            return True
    return False


def _vs1(f: Any, r: Any, t: Any) -> bool:
    return not isinstance(f, str) or len(f) >= 8


def _vs2(f: Any, r: Any, t: Any) -> bool:
    if not isinstance(f, dict) or "component" in f or "hasMember" in f:
        return True
    return "dataAbsentReason" in f or _has_value(f)


def _vs3(f: Any, r: Any, t: Any) -> bool:
    return not isinstance(f, dict) or "dataAbsentReason" in f or _has_value(f)


#: hot invariants of the core vital-signs profiles, evaluated natively
_CORE_PROFILE_NATIVE = {"vs-1": _vs1, "vs-2": _vs2, "vs-3": _vs3}

_NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
_NHS_UNAVAILABLE = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberUnavailableReason"
)


def _nhs_number_or_reason(f: Any, r: Any, t: Any) -> bool:
    if not isinstance(f, dict):
        return True
    for ident in f.get("identifier") or ():
        if isinstance(ident, dict) and ident.get("system") == _NHS_NUMBER:
            return True
    return any(
        isinstance(x, dict) and x.get("url") == _NHS_UNAVAILABLE for x in f.get("extension") or ()
    )


#: profile invariants evaluated natively, keyed by their exact FHIRPath expression (so a
#: profile that words the rule differently still goes through FHIRPath)
_NATIVE_EXPRESSIONS: dict[str, Callable[[Any, Any, Any], bool]] = {
    f"identifier.where(system = '{_NHS_NUMBER}').exists() or "
    f"extension('{_NHS_UNAVAILABLE}').exists()": _nhs_number_or_reason,
}


class ProfileError(Exception):
    """A profile cannot be compiled (e.g. circular derivation); reported as an issue."""


class PElem:
    """The constraints a profile puts on one element (or slice)."""

    __slots__ = (
        "absent_ok",
        "binding",
        "bindings",
        "check_max",
        "check_min",
        "children",
        "constraints",
        "counts",
        "decl_types",
        "eid",
        "ext_key",
        "fixed",
        "fp_base",
        "max",
        "max_value",
        "min",
        "min_value",
        "must_support",
        "name",
        "path",
        "pattern",
        "slice_name",
        "sliced",
        "slices",
        "slicing",
        "target_types",
        "type_codes",
        "type_profiles",
        "value_checks",
    )

    def __init__(self, eid: str, name: str, slice_name: str | None) -> None:
        self.eid = eid
        self.name = name
        self.slice_name = slice_name
        self.path = ""
        self.min = 0
        self.max = -1
        self.check_min = False
        self.check_max = False
        self.type_codes: frozenset[str] | None = None  # narrowed types only
        self.decl_types: frozenset[str] | None = None  # as declared (for discriminators)
        self.type_profiles: tuple[str, ...] = ()
        self.target_types: frozenset[str] | None = None
        self.fixed: Any = None
        self.pattern: Any = None
        self.min_value: Any = None
        self.max_value: Any = None
        self.binding: tuple[str, str] | None = None  # the first of bindings
        self.bindings: tuple[tuple[str, str], ...] = ()
        self.constraints: tuple[Invariant, ...] = ()
        self.slicing: tuple[tuple[tuple[str, str], ...], str] | None = None
        self.must_support = False
        self.fp_base = ""
        self.children: dict[str, PElem] = {}
        self.slices: list[PElem] = []
        # set by _finalize once the tree is built
        self.absent_ok = False  # absence of the element can produce no issue
        self.ext_key: str | None = None  # "_name" for a plain (non-choice) element
        self.counts = True  # has a cardinality rule of its own
        self.sliced = True  # items go through slice matching
        self.value_checks = True  # check_item has more to do than recurse


class CompiledProfile:
    __slots__ = ("kind", "must_support", "own_must_support", "root", "type", "url")

    def __init__(
        self,
        url: str,
        type_: str,
        kind: str,
        root: PElem,
        ms: list[str],
        own_ms: list[str] | None = None,
    ) -> None:
        self.url = url
        self.type = type_
        self.kind = kind
        self.root = root
        self.must_support = ms
        #: the elements this profile itself (its differential) flags mustSupport
        self.own_must_support = ms if own_ms is None else own_ms


# ---------------------------------------------------------------------------- helpers

_ID_SPLIT = re.compile(r"\.(?![^\[]*\])")  # dots not inside [x]


def _segments(eid: str) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for part in eid.split("."):
        if ":" in part:
            name, sl = part.split(":", 1)
            out.append((name, sl))
        else:
            out.append((part, None))
    return out


def _element_ids(elements: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Element ids, derived from path + sliceName when absent (older profiles)."""
    out: list[tuple[str, dict[str, Any]]] = []
    current: dict[str, str] = {}  # path -> id prefix with slice
    for e in elements:
        eid = e.get("id")
        path = e.get("path")
        if not isinstance(path, str):
            continue
        if not isinstance(eid, str):
            parts = path.split(".")
            built = parts[0]
            pth = parts[0]
            for seg in parts[1:]:
                pth = f"{pth}.{seg}"
                built = f"{built}.{seg}"
                if pth in current and pth != path:
                    built = current[pth]
            if isinstance(e.get("sliceName"), str):
                built = f"{built}:{e['sliceName']}"
                current[path] = built
            elif path in current:
                del current[path]
            eid = built
        out.append((eid, e))
    return out


_FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"


def _type_code(t: dict[str, Any]) -> str:
    code = str(t.get("code"))
    if code.startswith("http://hl7.org/fhirpath/System."):
        for ext in t.get("extension", ()) or ():
            if isinstance(ext, dict) and ext.get("url") == _FHIR_TYPE_EXT:
                return str(ext.get("valueUrl") or ext.get("valueUri"))
        return code.rsplit(".", 1)[1].lower()
    return code


def _fixed_pattern(e: dict[str, Any], prefix: str) -> Any:
    for k, v in e.items():
        if k.startswith(prefix) and len(k) > len(prefix) and k[len(prefix)].isupper():
            return v
    return None


def pattern_matches(pattern: Any, value: Any) -> bool:
    """FHIR pattern semantics: everything in the pattern is present in the value."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(k in value and pattern_matches(v, value[k]) for k, v in pattern.items())
    if isinstance(pattern, list):
        if not isinstance(value, list):
            value = [value]
        return all(any(pattern_matches(p, v) for v in value) for p in pattern)
    if isinstance(pattern, _NUMERIC) and isinstance(value, _NUMERIC):
        return bool(pattern == value) and type(pattern) is not bool and type(value) is not bool
    return bool(pattern == value)


def fixed_matches(fixed: Any, value: Any) -> bool:
    if isinstance(fixed, dict | list):
        return pattern_matches(fixed, value) and _no_extra(fixed, value)
    return pattern_matches(fixed, value)


def _no_extra(fixed: Any, value: Any) -> bool:
    if isinstance(fixed, dict) and isinstance(value, dict):
        return all(
            k in fixed and _no_extra(fixed[k], v)
            for k, v in value.items()
            if k not in ("id", "extension")
        )
    if isinstance(fixed, list) and isinstance(value, list):
        return len(fixed) == len(value)
    return True


class _Item:
    """One occurrence of an element in an instance (its path is built only when needed)."""

    __slots__ = ("_path", "ext", "idx", "key", "parent", "type", "value")

    def __init__(
        self, value: Any, ext: Any, parent: str, key: str, type_: str | None, idx: int = -1
    ) -> None:
        self.value = value  # the JSON value (dict for complex types)
        self.ext = ext  # for primitives: the _key object (id / extension), else None
        self.parent = parent
        self.key = key
        self.idx = idx
        self.type = type_  # the concrete type when known from a choice key
        self._path: str | None = None

    @property
    def path(self) -> str:
        p = self._path
        if p is None:
            if not self.key:
                p = self.parent
            elif self.idx < 0:
                p = f"{self.parent}.{self.key}"
            else:
                p = f"{self.parent}.{self.key}[{self.idx}]"
            self._path = p
        return p

    @property
    def obj(self) -> dict[str, Any]:
        """The object whose children are the element's children."""
        if isinstance(self.value, dict):
            return self.value
        return self.ext if isinstance(self.ext, dict) else {}


def _items(obj: dict[str, Any], name: str, path: str) -> list[_Item]:
    out: list[_Item] = []
    if name.endswith("[x]"):
        prefix = name[:-3]
        n = len(prefix)
        keys: list[str] = []
        for k in obj:
            if k[0] == "_":
                if (
                    k.startswith(prefix, 1)
                    and len(k) > n + 1
                    and k[n + 1].isupper()
                    and k[1:] not in obj
                ):
                    keys.append(k[1:])
            elif k.startswith(prefix) and len(k) > n and k[n].isupper():
                keys.append(k)
        for k in keys:
            t = k[n:]
            out.extend(_items_for(obj, k, path, t[0].lower() + t[1:] if _is_prim(t) else t))
        return out
    if name not in obj and "_" + name not in obj:
        return []
    return _items_for(obj, name, path, None)


_PRIMS: frozenset[str] = frozenset()


def _is_prim(type_suffix: str) -> bool:
    return (type_suffix[0].lower() + type_suffix[1:]) in _PRIMS


def _items_for(obj: dict[str, Any], key: str, path: str, t: str | None) -> list[_Item]:
    v = obj.get(key)
    x = obj.get("_" + key)
    if v is None and x is None:
        return []
    if isinstance(v, list) or isinstance(x, list):
        vs = v if isinstance(v, list) else []
        xs = x if isinstance(x, list) else []
        n = max(len(vs), len(xs))
        return [
            _Item(vs[i] if i < len(vs) else None, xs[i] if i < len(xs) else None, path, key, t, i)
            for i in range(n)
        ]
    return [_Item(v, x, path, key, t)]


_SEGMENT = re.compile(r"[^.(]+(?:\([^)]*\))?")
_EXT_FN = re.compile(r"extension\('([^']*)'\)")


@cache
def _path_segments(path: str) -> tuple[tuple[str, str | None], ...]:
    out: list[tuple[str, str | None]] = []
    for seg in _SEGMENT.findall(path):
        m = _EXT_FN.fullmatch(seg)
        out.append(("ext", m.group(1)) if m is not None else (seg, None))
    return tuple(out)


_PLAIN_PATH = re.compile(r"[a-z][A-Za-z0-9]*(?:\.[a-z][A-Za-z0-9]*)*")
_UNSET: Any = object()


def _walk_keys(value: Any, keys: tuple[str, ...]) -> list[Any]:
    """``_navigate`` for a path of plain element names."""
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


def _navigate(values: list[Any], path: str) -> list[Any]:
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


# --------------------------------------------------------------------------- compiler


class ProfileRegistry:
    """Compiles and applies profiles from a DefinitionSet plus the core profiles."""

    def __init__(self, model: Model, definitions: DefinitionSet) -> None:
        global _PRIMS
        _PRIMS = frozenset(model.prims)
        self.model = model
        self.definitions = definitions
        self._compiled: dict[str, CompiledProfile | ProfileError] = {}
        self._core_keys = {(k, e) for k, _, _, e in core_data()["invariants"]}
        self._cs_cache: dict[str, CodeSystemInfo | None] = {}
        self._expander = Expander(self._valueset, self._codesystem, core_expansion)
        self._bindings: dict[str, Expansion | None] = {}
        # (id of a slice PElem, discriminator path) -> expected value; PElems live as
        # long as the registry, so their ids are stable keys
        self.expected_cache: dict[tuple[int, str], tuple[str, Any] | None] = {}
        # (id of a slice PElem, discriminators) -> compiled matcher, None for the general one
        self.matchers: dict[tuple[int, tuple[tuple[str, str], ...]], Any] = {}
        self._fast: FastCompiler | None = None

    # -- lookups
    def structure_definition(self, url: str) -> dict[str, Any] | None:
        sd = self.definitions.structure_definitions.get(url)
        if sd is None:
            sd = self.definitions.structure_definitions.get(strip_version(url))
        if sd is None:
            sd = core_profiles().get(strip_version(url))
        return sd

    def _valueset(self, url: str) -> dict[str, Any] | None:
        return self.definitions.valuesets.get(url)

    def _codesystem(self, url: str) -> CodeSystemInfo | None:
        if url not in self._cs_cache:
            cs = self.definitions.codesystems.get(url)
            self._cs_cache[url] = (
                CodeSystemInfo.from_resource(cs) if cs is not None else core_codesystem(url)
            )
        return self._cs_cache[url]

    def expansion(self, url: str) -> Expansion | None:
        url = strip_version(url)
        if url not in self._bindings:
            self._bindings[url] = self._expander.expand(url)
        return self._bindings[url]

    def is_core_type(self, url: str) -> bool:
        return url.startswith(CORE_SD) and url[len(CORE_SD) :] in self.model.types

    # -- compile
    def compiled(self, url: str) -> CompiledProfile | None:
        """The compiled profile; None if unknown. Raises ProfileError if it is broken."""
        got = self._compiled.get(url)
        if got is None:
            sd = self.structure_definition(url)
            if sd is None:
                return None
            try:
                got = self._compile(url, sd)
            except ProfileError as exc:
                got = exc
            self._compiled[url] = got
        if isinstance(got, ProfileError):
            raise got
        return got

    def _chain(self, url: str, sd: dict[str, Any]) -> list[dict[str, Any]]:
        chain = [sd]
        seen = {strip_version(url)}
        cur = sd
        while True:
            base = cur.get("baseDefinition")
            if not isinstance(base, str) or self.is_core_type(strip_version(base)):
                break
            b = strip_version(base)
            if b in seen:
                raise ProfileError(f"circular derivation through {b}")
            seen.add(b)
            nxt = self.structure_definition(b)
            if nxt is None:
                raise ProfileError(f"base profile {b} is not available")
            chain.insert(0, nxt)
            cur = nxt
        return chain

    def _compile(self, url: str, sd: dict[str, Any]) -> CompiledProfile:
        chain = self._chain(url, sd)
        merged: dict[str, dict[str, Any]] = {}
        for prof in chain:
            snap = (
                prof.get("snapshot", {}).get("element")
                if isinstance(prof.get("snapshot"), dict)
                else None
            )
            if snap:
                merged = {eid: dict(e) for eid, e in _element_ids(snap)}
                continue
            diff = prof.get("differential", {}).get("element", [])
            for eid, e in _element_ids(diff):
                prev = merged.get(eid)
                if prev is None:
                    merged[eid] = dict(e)
                else:
                    cons = list(prev.get("constraint", [])) + list(e.get("constraint", []))
                    for k in [k for k in prev if k.startswith(("fixed", "pattern"))]:
                        if any(x.startswith(("fixed", "pattern")) for x in e):
                            del prev[k]
                    prev.update(e)
                    if cons:
                        prev["constraint"] = cons
        type_ = sd["type"]
        root = PElem(type_, type_, None)
        root.path = type_
        root.fp_base = type_
        ms: list[str] = []
        for eid, e in merged.items():
            segs = _segments(eid)
            node = root
            for name, sl in segs[1:]:
                child = node.children.get(name)
                if child is None:
                    child = PElem(f"{node.eid}.{name}", name, None)
                    child.path = f"{node.path}.{name}"
                    node.children[name] = child
                node = child
                if sl is not None:
                    found = next((s for s in node.slices if s.slice_name == sl), None)
                    if found is None:
                        found = PElem(f"{node.eid}:{sl}", name, sl)
                        found.path = node.path
                        node.slices.append(found)
                    node = found
            self._apply(node, e, url)
            if e.get("mustSupport") is True:
                ms.append(eid)
        self._choice_type_slices(root)
        _prune(root)
        _finalize(root)
        own: list[str] | None = None
        diff = sd.get("differential")
        if isinstance(diff, dict) and isinstance(diff.get("element"), list):
            own = [eid for eid, e in _element_ids(diff["element"]) if e.get("mustSupport") is True]
        return CompiledProfile(url, type_, sd.get("kind", ""), root, ms, own)

    def _choice_type_slices(self, pe: PElem) -> None:
        """value[x]:valueQuantity slices become constraints on the concrete key."""
        for name, child in list(pe.children.items()):
            if name.endswith("[x]") and child.slices:
                keep: list[PElem] = []
                for s in child.slices:
                    if s.slice_name and s.slice_name.startswith(name[:-3]):
                        s.name = s.slice_name
                        s.slice_name = None
                        s.check_min = s.min > 0
                        s.check_max = s.max != -1
                        pe.children[s.name] = s
                    else:
                        keep.append(s)
                child.slices = keep
                if not keep:
                    child.slicing = None
            self._choice_type_slices(child)
            for s in child.slices:
                self._choice_type_slices(s)

    def _base_row(self, path: str) -> list[Any] | None:
        """The base R4 element definition row for a (profile) element path, if any."""
        parts = path.split(".")
        cur = parts[0]
        if cur not in self.model.types:
            return None
        row: list[Any] | None = None
        for seg in parts[1:]:
            renamed: str | None = None
            row = self.model.element_row(f"{cur}.{seg}")
            if row is None:
                m = re.match(r"([a-z][A-Za-z]*?)([A-Z]\w*)$", seg)
                if m is not None:  # a renamed choice (valueQuantity) -> value[x]
                    row = self.model.element_row(f"{cur}.{m.group(1)}[x]")
                    renamed = m.group(2)
            if row is None:
                return None
            rpath = row[0]
            if len(row) > 6:
                cur = row[6]
            elif self.model.has_children(rpath):
                cur = rpath
            elif renamed is not None:
                cur = renamed if renamed in self.model.types else renamed[0].lower() + renamed[1:]
            elif row[3]:
                first = row[3][0]
                cur = first if isinstance(first, str) else first[0]
            else:
                return row
            if cur not in self.model.types and "." not in cur:
                return row
        return row

    def _apply(self, pe: PElem, e: dict[str, Any], url: str) -> None:
        path = e.get("path", pe.path)
        pe.path = path
        base = e.get("base") if isinstance(e.get("base"), dict) else None
        row = self._base_row(path) if "." in path else None
        base_min = base.get("min") if base else (row[1] if row else 0)
        base_max_raw = base.get("max") if base else None
        if base_max_raw is None:
            base_max = row[2] if row else -1
        else:
            base_max = -1 if base_max_raw == "*" else int(base_max_raw)
        if "min" in e and isinstance(e["min"], int):
            pe.min = e["min"]
            pe.check_min = pe.slice_name is not None or pe.min > (base_min or 0)
        if "max" in e and isinstance(e["max"], str):
            pe.max = -1 if e["max"] == "*" else int(e["max"])
            pe.check_max = pe.max != -1 and (
                pe.slice_name is not None or base_max == -1 or pe.max < base_max
            )
        if (not pe.slice_name and "." not in path) or (row is None and "." in path):
            # the root, or a path base R4 does not have (a broken profile): no verdicts
            pe.check_min = pe.check_max = False
        types = e.get("type")
        if isinstance(types, list) and types:
            codes = [_type_code(t) for t in types if isinstance(t, dict)]
            base_codes: set[str] = set()
            if row:
                base_codes = {t if isinstance(t, str) else t[0] for t in row[3]}
            pe.decl_types = frozenset(codes)
            if base_codes == {"Resource"}:
                narrowed = set(codes) != base_codes
            else:
                narrowed = set(codes) < base_codes if base_codes else path.endswith("[x]")
            if narrowed:
                pe.type_codes = frozenset(codes)
            profs = [p for t in types for p in t.get("profile", ()) or ()]
            pe.type_profiles = tuple(p for p in profs if not self.is_core_type(strip_version(p)))
            targets = [p for t in types for p in t.get("targetProfile", ()) or ()]
            if targets:
                tt = set()
                for tp in targets:
                    tp = strip_version(tp)
                    if self.is_core_type(tp):
                        tt.add(tp[len(CORE_SD) :])
                    else:
                        tsd = self.structure_definition(tp)
                        if tsd is None:
                            tt.add("*")
                        else:
                            tt.add(str(tsd.get("type")))
                base_tt = {
                    x for t in (row[3] if row else ()) if not isinstance(t, str) for x in t[1]
                }
                if "*" not in tt and "Resource" not in tt and tt != base_tt:
                    pe.target_types = frozenset(tt)
            single: str | None = codes[0] if len(codes) == 1 else None
            if (
                single
                and single not in ("BackboneElement", "Element")
                and (single in self.model.types)
            ):
                pe.fp_base = single
        if not pe.fp_base:
            pe.fp_base = re.sub(r"\[x\]", "", path) if row is None else path
        fixed = _fixed_pattern(e, "fixed")
        if fixed is not None:
            pe.fixed = fixed
        pattern = _fixed_pattern(e, "pattern")
        if pattern is not None:
            pe.pattern = pattern
        mn = _fixed_pattern(e, "minValue")
        if mn is not None:
            pe.min_value = mn
        mx = _fixed_pattern(e, "maxValue")
        if mx is not None:
            pe.max_value = mx
        b = e.get("binding")
        bindings: list[tuple[str, str]] = []
        if (
            isinstance(b, dict)
            and b.get("strength") in ("required", "extensible")
            and (isinstance(b.get("valueSet"), str))
        ):
            vs = strip_version(b["valueSet"])
            base_b = row[4] if row else None
            if base_b is None or base_b[1] != vs or base_b[0] != b["strength"]:
                bindings.append((b["strength"], vs))
        if isinstance(b, dict):
            bindings.extend(_additional_bindings(b))
        if bindings:
            pe.binding = bindings[0]
            pe.bindings = tuple(bindings)
        cons: list[Invariant] = []
        for c in e.get("constraint", ()) or ():
            if not isinstance(c, dict):
                continue
            key, expr = c.get("key"), c.get("expression")
            if not isinstance(key, str) or not isinstance(expr, str):
                continue
            if (
                (key, expr) in self._core_keys
                or key in ("ele-1", "ext-1")
                or (key in NATIVE_INVARIANTS and str(c.get("source", "")).startswith(CORE_SD))
            ):
                continue
            native: Callable[[Any, Any, Any], bool] | None = (
                _CORE_PROFILE_NATIVE.get(key) if url.startswith(CORE_SD) else None
            )
            if native is None:
                native = _NATIVE_EXPRESSIONS.get(expr)
            if native is not None:
                cons.append(
                    Invariant(
                        key,
                        str(c.get("severity", "error")),
                        str(c.get("human", "")),
                        expr,
                        native,
                        url,
                    )
                )
                continue
            cons.append(
                _lazy_invariant(
                    key,
                    str(c.get("severity", "error")),
                    str(c.get("human", "")),
                    expr,
                    pe.fp_base,
                    url,
                )
            )
        if cons:
            pe.constraints = tuple(cons)
        sl = e.get("slicing")
        if isinstance(sl, dict):
            disc = tuple(
                (str(d.get("type")), str(d.get("path")))
                for d in sl.get("discriminator", ()) or ()
                if isinstance(d, dict)
            )
            pe.slicing = (disc, str(sl.get("rules", "open")))

    # ---------------------------------------------------------------- validation

    def validate(
        self,
        resource: Any,
        profiles: Sequence[str],
        claimed: Sequence[str],
        extensions_checked: bool = False,
    ) -> list[FhirIssue]:
        """Issues of a resource against profiles; ``extensions_checked`` says the caller
        checks every extension in it against its definition (see check_extensions)."""
        out: list[FhirIssue] = []
        if not isinstance(resource, dict):
            return out
        rtype = resource.get("resourceType")
        done: set[str] = set()
        for url, explicit in [(p, True) for p in profiles] + [(p, False) for p in claimed]:
            if url in done:
                continue
            done.add(url)
            if self.is_core_type(strip_version(url)):
                continue
            try:
                prof = self.compiled(url)
            except ProfileError as exc:
                out.append(
                    FhirIssue(
                        "error", "profile-error", str(rtype), f"Profile cannot be used: {exc}", url
                    )
                )
                continue
            if prof is None:
                out.append(
                    FhirIssue(
                        "error" if explicit else "warning",
                        "unknown-profile",
                        str(rtype),
                        "Profile is not known to the validator",
                        url,
                    )
                )
                continue
            if prof.type != rtype:
                out.append(
                    FhirIssue(
                        "error",
                        "profile-type",
                        str(rtype),
                        f"Profile is for {prof.type}, not {rtype}",
                        url,
                    )
                )
                continue
            if self._fast_ok(url, extensions_checked, resource, resource):
                continue
            run = _Run(self, url, resource, extensions_checked)
            run.check_item(_Item(resource, None, str(rtype), "", None), prof.root)
            out.extend(run.issues)
        return out

    def _fast_ok(self, url: str, extensions_checked: bool, value: Any, resource: Any) -> bool:
        """The profile's compiled pre-check (see ``_profile_fast``): True only when the full
        walk would report nothing; False (walk in full) when it says otherwise or fails."""
        fast = self._fast
        if fast is None:
            from conformance.fhir._profile_fast import FastCompiler

            fast = self._fast = FastCompiler(self)
        try:
            return fast.profile(url, extensions_checked)(value, None, resource)
        except Exception:  # anything unexpected: the full walk decides (and reports)
            return False

    def conforms(self, value: Any, url: str, path: str, resource: Any) -> bool | None:
        """Whether a value conforms to a profile (None if the profile is unknown)."""
        try:
            prof = self.compiled(url)
        except ProfileError:
            return None
        if prof is None:
            return None
        if isinstance(value, dict) and prof.kind == "resource":
            if value.get("resourceType") != prof.type:
                return False
            from conformance.fhir.validator import FhirValidator

            base = FhirValidator(self.model)
            if any(i.severity == "error" for i in base.validate(value)):
                return False
        run = _Run(self, url, resource)
        run.check_item(_Item(value, None, path, "", None), prof.root, slice_counts=False)
        return not any(i.severity == "error" for i in run.issues)

    def check_extensions(
        self, found: list[tuple[str, list[Any], Any]], allow_example_urls: bool = False
    ) -> list[FhirIssue]:
        """Check extensions met in a resource against their definitions, when known."""
        out: list[FhirIssue] = []
        for path, items, res in found:
            for i, ext in enumerate(items):
                if not isinstance(ext, dict):
                    continue
                url = ext.get("url")
                if not isinstance(url, str) or ":" not in url:
                    continue  # relative urls name the parts of a complex extension
                p = f"{path}[{i}]"
                try:
                    prof = self.compiled(url)
                except ProfileError as exc:
                    out.append(
                        FhirIssue(
                            "warning",
                            "profile-error",
                            p,
                            f"Extension definition cannot be used: {exc}",
                            url,
                        )
                    )
                    continue
                if prof is None:
                    if _example_url(url) and not allow_example_urls:
                        out.append(
                            FhirIssue(
                                "error",
                                "unknown-extension",
                                p,
                                "Extension is not defined, so it is not allowed here",
                                url,
                            )
                        )
                    elif url.startswith(CORE_SD):
                        # e.g. from the HL7 extensions pack, which is not shipped
                        out.append(
                            FhirIssue(
                                "information",
                                "unknown-extension",
                                p,
                                "Extension definition not available; not checked",
                                url,
                            )
                        )
                    continue
                if self._fast_ok(url, False, ext, res):
                    continue
                run = _Run(self, url, res)
                run.check_item(_Item(ext, None, p, "", None), prof.root)
                out.extend(run.issues)
        return out

    def must_support_paths(self, url: str, inherited: bool = True) -> list[str]:
        prof = self.compiled(url)
        if prof is None:
            return []
        return list(prof.must_support if inherited else prof.own_must_support)


def binding_ok(value: Any, strength: str, exp: Expansion) -> bool:
    """Whether a value meets a profile binding (True too for values it says nothing of)."""
    if isinstance(value, str):
        return any(value in codes for codes in exp.values())
    if (isinstance(value, dict) and "coding" in value) or (
        isinstance(value, dict) and "text" in value and "code" not in value
    ):
        codings = value.get("coding")
        codings = codings if isinstance(codings, list) else []
        ok = any(
            isinstance(c, dict)
            and isinstance(c.get("code"), str)
            and c["code"] in exp.get(str(c.get("system")), ())
            for c in codings
        )
        if not ok and not codings:
            return True  # text only: nothing coded to check
        if not ok and strength == "extensible" and "text" in value:
            return True
        return ok
    if isinstance(value, dict) and "code" in value:
        sys_ = value.get("system")
        code = value.get("code")
        if not isinstance(code, str):
            return False  # a code that is not text meets no binding (and is a type error)
        if sys_ is None:
            return any(code in codes for codes in exp.values())
        return code in exp.get(str(sys_), ())
    return True


class _Run:
    """One application of one profile to one resource."""

    def __init__(
        self, reg: ProfileRegistry, source: str, resource: Any, extensions_checked: bool = False
    ) -> None:
        self.reg = reg
        self.source = source
        self.resource = resource
        self.issues: list[FhirIssue] = []
        #: every extension in the resource is also checked against its own definition
        #: (FhirValidator.validate does so), so an extension slice need not re-apply it
        self.extensions_checked = extensions_checked

    def add(self, severity: str, code: str, path: str, message: str, key: str = "") -> None:
        self.issues.append(FhirIssue(severity, code, path, message, self.source, key))

    def check(self, obj: dict[str, Any], pe: PElem, path: str) -> None:
        """Check the children of one object against a profile element's children."""
        for name, child in pe.children.items():
            ext_key = child.ext_key
            if ext_key is not None and ext_key not in obj:
                # a plain element without a _name sibling: build its items directly
                v = obj.get(name)
                if v is None:
                    if not child.absent_ok:
                        self.check_element([], child, path, name)
                    continue
                if type(v) is list:
                    items = [_Item(x, None, path, name, None, i) for i, x in enumerate(v)]
                else:
                    items = [_Item(v, None, path, name, None)]
            else:
                items = _items(obj, name, path)
            self.check_element(items, child, path, name)

    def check_element(self, items: list[_Item], pe: PElem, parent: str, name: str) -> None:
        if not pe.counts:
            for it in items:
                self.check_item(it, pe)
            if pe.sliced:
                self.check_slices(items, pe, parent, name)
            return
        count = len(items)
        label = name
        if pe.check_min and count < pe.min:
            self.add(
                "error",
                "cardinality-min",
                f"{parent}.{name}",
                f"Element '{label}' requires at least {pe.min} item(s) in this profile; "
                f"found {count}",
            )
        if pe.check_max and count > pe.max:
            self.add(
                "error",
                "cardinality-max",
                f"{parent}.{name}",
                f"Element '{label}' allows at most {pe.max} item(s) in this profile; found {count}",
            )
        if pe.max == 0 and count and not pe.check_max:
            self.add(
                "error",
                "cardinality-max",
                f"{parent}.{name}",
                f"Element '{label}' is not allowed in this profile",
            )
        for it in items:
            self.check_item(it, pe)
        if pe.slices or (pe.slicing is not None) or name in ("extension", "modifierExtension"):
            self.check_slices(items, pe, parent, name)

    def check_item(self, it: _Item, pe: PElem, slice_counts: bool = True) -> None:
        if not pe.value_checks:
            if pe.children:
                self.check(it.obj, pe, it.path)
            return
        value = it.value
        if pe.type_codes is not None:
            t = self._item_type(it)
            if (
                t is not None
                and t not in pe.type_codes
                and not (
                    t in ("SimpleQuantity", "Quantity")
                    and pe.type_codes & {"Quantity", "SimpleQuantity"}
                )
            ):
                self.add(
                    "error", "invalid-type", it.path, f"Type {t} is not allowed here by the profile"
                )
                return
        if (
            pe.fixed is not None
            and not fixed_matches(pe.fixed, value)
            and not (it.parent.endswith("Quantity") and _ucum_equal(pe.fixed, value))
        ):
            self.add(
                "error",
                "profile-fixed-value",
                it.path,
                "Value does not match the fixed value required by the profile",
            )
        if pe.pattern is not None and not pattern_matches(pe.pattern, value):
            self.add(
                "error",
                "profile-pattern",
                it.path,
                "Value does not match the pattern required by the profile",
            )
        for binding in pe.bindings:
            self.check_binding(it, binding)
        if pe.min_value is not None and _compare(value, pe.min_value) == -1:
            self.add(
                "error",
                "profile-min-value",
                it.path,
                "Value is below the minimum the profile allows",
            )
        if pe.max_value is not None and _compare(value, pe.max_value) == 1:
            self.add(
                "error",
                "profile-max-value",
                it.path,
                "Value is above the maximum the profile allows",
            )
        if pe.target_types is not None and isinstance(value, dict):
            ref = value.get("reference")
            if isinstance(ref, str):
                m = _REF_RX.fullmatch(ref)
                if m is not None and m.group(1) not in pe.target_types:
                    self.add(
                        "error",
                        "reference-target",
                        it.path,
                        "Reference points at a resource type this profile does not allow",
                    )
        for inv in pe.constraints:
            try:
                ok = inv.check(value if value is not None else it.obj, self.resource, self.resource)
            except Exception as exc:  # never crash on a broken profile expression
                self.add(
                    "warning",
                    "invariant-error",
                    it.path,
                    f"Invariant {inv.key} could not be evaluated ({type(exc).__name__})",
                )
                continue
            if not ok:
                self.add(
                    inv.severity,
                    "invariant",
                    it.path,
                    f"Constraint {inv.key} failed: {inv.human}",
                    inv.key,
                )
        if len(pe.type_profiles) == 1:
            url = pe.type_profiles[0]
            if not (
                self.extensions_checked
                and type(value) is dict
                and value.get("url") == url
                and self.reg.structure_definition(url) is not None
            ):
                self.issues.extend(self.type_profile_issues(it, url))
        elif pe.type_profiles:
            # several profiles on one type: conforming to any one of them is enough
            results = [self.type_profile_issues(it, u) for u in pe.type_profiles]
            if not any(all(i.severity != "error" for i in r) for r in results):
                self.add(
                    "error",
                    "profile-no-match",
                    it.path,
                    "Value conforms to none of the profiles allowed here",
                )
        if pe.children:
            self.check(it.obj, pe, it.path)

    def _item_type(self, it: _Item) -> str | None:
        if it.type is not None:
            return it.type
        v = it.value
        if isinstance(v, dict) and isinstance(v.get("resourceType"), str):
            return str(v["resourceType"])
        return None

    def type_profile_issues(self, it: _Item, url: str) -> list[FhirIssue]:
        """Issues of one element value against a profile named on its type."""
        if self.reg.structure_definition(url) is None:
            return [
                FhirIssue(
                    "warning",
                    "unknown-profile",
                    it.path,
                    "The profile required for this element is not known",
                    url,
                )
            ]
        try:
            prof = self.reg.compiled(url)
        except ProfileError as exc:
            return [
                FhirIssue("error", "profile-error", it.path, f"Profile cannot be used: {exc}", url)
            ]
        if prof is None:
            return []
        value = it.value
        if isinstance(value, dict) and isinstance(value.get("resourceType"), str):
            if value["resourceType"] != prof.type:
                return [
                    FhirIssue(
                        "error",
                        "profile-type",
                        it.path,
                        f"Resource must be a {prof.type} to conform to the profile",
                        url,
                    )
                ]
            sub = _Run(self.reg, url, value, self.extensions_checked)
            sub.check_item(it, prof.root)
            return sub.issues
        sub = _Run(self.reg, url, self.resource, self.extensions_checked)
        sub.check_item(it, prof.root)
        return sub.issues

    def check_binding(self, it: _Item, binding: tuple[str, str]) -> None:
        strength, vs = binding
        exp = self.reg.expansion(vs)
        if exp is None:
            return
        value = it.value
        if binding_ok(value, strength, exp):
            return
        if (
            strength == "required"
            and isinstance(value, dict)
            and "coding" not in value
            and "code" in value
            and "value" in value
            and self.source.startswith(CORE_SD)
        ):
            # units in the core vital-signs profiles: HL7's validator only warns
            strength = "extensible"
        if strength == "required":
            self.add(
                "error",
                "binding-required",
                it.path,
                f"Code is not in the value set {vs} required by the profile",
            )
        else:
            self.add(
                "warning",
                "binding-extensible",
                it.path,
                f"Code is not in the extensible value set {vs} of the profile",
            )

    # ------------------------------------------------------------------- slicing

    def check_slices(self, items: list[_Item], pe: PElem, parent: str, name: str) -> None:
        disc: tuple[tuple[str, str], ...]
        rules = "open"
        if pe.slicing is not None:
            disc, rules = pe.slicing
        elif name in ("extension", "modifierExtension"):
            disc = (("value", "url"),)
        else:
            disc = ()
        assigned: dict[int, list[_Item]] = {i: [] for i in range(len(pe.slices))}
        try:
            for it in items:
                hit = None
                for i, s in enumerate(pe.slices):
                    if self.matches(it, s, disc):
                        hit = i
                        break
                if hit is None:
                    if rules == "closed":
                        self.add(
                            "error",
                            "slice-unmatched",
                            it.path,
                            "Item matches none of the slices and the slicing is closed",
                        )
                    continue
                assigned[hit].append(it)
        except ProfileError:
            return  # a discriminator we cannot evaluate offline: no slice verdicts
        for i, s in enumerate(pe.slices):
            got = assigned[i]
            if s.min and len(got) < s.min:
                self.add(
                    "error",
                    "slice-cardinality",
                    f"{parent}.{name}",
                    f"Slice '{s.slice_name}' requires at least {s.min} item(s); found {len(got)}",
                )
            if s.max != -1 and len(got) > s.max:
                self.add(
                    "error",
                    "slice-cardinality",
                    f"{parent}.{name}",
                    f"Slice '{s.slice_name}' allows at most {s.max} item(s); found {len(got)}",
                )
            for it in got:
                self.check_item(it, s)

    def matches(self, it: _Item, s: PElem, disc: tuple[tuple[str, str], ...]) -> bool:
        if not disc:
            raise ProfileError("slicing without discriminators")
        key = (id(s), disc)
        cache_ = self.reg.matchers
        fn = cache_.get(key, _UNSET)
        if fn is _UNSET:
            fn = cache_[key] = self._compile_matcher(s, disc)
        if fn is not None:
            return bool(fn(it.value))
        return all(self.disc_match(it, s, dtype, dpath) for dtype, dpath in disc)

    def _compile_matcher(
        self, s: PElem, disc: tuple[tuple[str, str], ...]
    ) -> Callable[[Any], bool] | None:
        """A plain function for slices told apart by fixed strings at simple paths (the
        common case: coding.system / coding.code, url, system); None otherwise."""
        tests: list[tuple[tuple[str, ...], str]] = []
        for dtype, dpath in disc:
            if dtype not in ("value", "pattern") or not _PLAIN_PATH.fullmatch(dpath):
                return None
            expected = self.expected(s, dpath)
            if expected is None or type(expected[1]) is not str:
                return None
            keys = tuple(dpath.split("."))
            if "value" in keys:
                return None  # _navigate reads 'value' as a choice
            tests.append((keys, expected[1]))

        def match(value: Any) -> bool:
            return all(want in _walk_keys(value, keys) for keys, want in tests)

        return match

    def disc_match(self, it: _Item, s: PElem, dtype: str, dpath: str) -> bool:
        if dtype in ("value", "pattern"):
            expected = self.expected(s, dpath)
            if expected is None:
                binding = self.expected_binding(s, dpath)
                if binding is None:
                    raise ProfileError(f"cannot evaluate discriminator {dpath}")
                values = _navigate([it.value], dpath)
                return any(_in_expansion(v, binding) for v in values)
            kind, want = expected
            values = _navigate([it.value], dpath)
            if kind == "fixed" and dtype == "value":
                return any(fixed_matches(want, v) for v in values)
            return any(pattern_matches(want, v) for v in values)
        if dtype == "exists":
            target = self.element_at(s, dpath)
            if target is None:
                raise ProfileError(f"cannot evaluate discriminator {dpath}")
            present = bool(_navigate([it.value], dpath))
            if target.min >= 1:
                return present
            if target.max == 0:
                return not present
            raise ProfileError(f"exists discriminator {dpath} says nothing")
        if dtype == "type":
            target = self.element_at(s, dpath)
            if target is None or target.decl_types is None:
                raise ProfileError(f"cannot evaluate discriminator {dpath}")
            values = _navigate([it.value], dpath) if dpath != "$this" else [it.value]
            if dpath == "$this" and it.type is not None:
                return it.type in target.decl_types
            for v in values:
                if isinstance(v, dict) and v.get("resourceType") in target.decl_types:
                    return True
            return False
        if dtype == "profile":
            target = self.element_at(s, dpath)
            if target is None or not target.type_profiles:
                raise ProfileError(f"cannot evaluate discriminator {dpath}")
            values = [it.value] if dpath == "$this" else _navigate([it.value], dpath)
            for v in values:
                for url in target.type_profiles:
                    ok = self.reg.conforms(v, url, it.path, self.resource)
                    if ok is None:
                        raise ProfileError(f"profile {url} unknown")
                    if ok:
                        return True
            return False
        raise ProfileError(f"unsupported discriminator type {dtype}")

    def element_at(self, s: PElem, dpath: str) -> PElem | None:
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

    def expected(self, s: PElem, dpath: str) -> tuple[str, Any] | None:
        """The fixed/pattern value a slice requires at a discriminator path (cached)."""
        key = (id(s), dpath)
        cache_ = self.reg.expected_cache
        if key in cache_:
            return cache_[key]
        got = self._expected(s, dpath)
        cache_[key] = got
        return got

    def _expected(self, s: PElem, dpath: str) -> tuple[str, Any] | None:
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
            m = re.fullmatch(r"extension\('([^']*)'\)", seg)
            if m is not None:
                ext = next(
                    (
                        x
                        for x in cur.children.get("extension", PElem("", "", None)).slices
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
                vals = _navigate([base_val], rest)
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

    def expected_binding(self, s: PElem, dpath: str) -> Expansion | None:
        target = self.element_at(s, dpath)
        if target is None or target.binding is None or target.binding[0] != "required":
            return None
        return self.reg.expansion(target.binding[1])


_ADDITIONAL = "StructureDefinition/extension-ElementDefinition.binding.additional"


def _additional_bindings(b: dict[str, Any]) -> list[tuple[str, str]]:
    """R5 additional bindings (via the cross-version extension) with a checkable purpose."""
    out: list[tuple[str, str]] = []
    for ext in b.get("extension", ()) or ():
        if not isinstance(ext, dict) or not str(ext.get("url", "")).endswith(_ADDITIONAL):
            continue
        parts = {x.get("url"): x for x in ext.get("extension", ()) if isinstance(x, dict)}
        purpose = parts.get("purpose", {}).get("valueCode")
        vs = parts.get("valueSet", {}).get("valueCanonical")
        if purpose in ("required", "extensible") and isinstance(vs, str):
            out.append((str(purpose), strip_version(vs)))
    return out


def _compare(value: Any, limit: Any) -> int | None:
    """-1/0/1 comparing a value with a limit; None when they are not comparable."""
    if isinstance(value, dict) and isinstance(limit, dict):
        if value.get("code", value.get("unit")) != limit.get("code", limit.get("unit")):
            return None
        value, limit = value.get("value"), limit.get("value")
    if isinstance(value, bool) or isinstance(limit, bool):
        return None
    if isinstance(value, _NUMERIC) and isinstance(limit, _NUMERIC):
        return (value > limit) - (value < limit)
    if isinstance(value, str) and isinstance(limit, str) and len(value) == len(limit):
        return (value > limit) - (value < limit)
    return None


_UCUM_ANNOTATION = re.compile(r"\{[^}]*\}")


def _ucum_equal(a: Any, b: Any) -> bool:
    """UCUM codes equal once {annotations} are dropped ({beats}/min is /min)."""
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    return _UCUM_ANNOTATION.sub("", a) == _UCUM_ANNOTATION.sub("", b)


def _prune(pe: PElem) -> bool:
    """Drop subtrees that check nothing beyond base R4; True if ``pe`` checks something."""
    for name in list(pe.children):
        if not _prune(pe.children[name]):
            del pe.children[name]
    for s in pe.slices:
        _prune(s)
    if not pe.slices:
        pe.slicing = None if pe.slicing is None or pe.slicing[1] != "closed" else pe.slicing
    return bool(
        pe.children
        or pe.slices
        or pe.slicing is not None
        or pe.check_min
        or pe.check_max
        or pe.max == 0
        or pe.type_codes is not None
        or pe.fixed is not None
        or pe.pattern is not None
        or pe.bindings
        or pe.constraints
        or pe.type_profiles
        or pe.target_types is not None
        or pe.min_value is not None
        or pe.max_value is not None
    )


def _finalize(pe: PElem) -> None:
    """Precompute what the per-resource walk asks of every element of a compiled tree."""
    pe.absent_ok = not (pe.check_min and pe.min > 0) and not any(s.min > 0 for s in pe.slices)
    pe.ext_key = None if pe.name.endswith("[x]") else "_" + pe.name
    pe.counts = pe.check_min or pe.check_max or pe.max == 0
    pe.sliced = (
        bool(pe.slices) or pe.slicing is not None or pe.name in ("extension", "modifierExtension")
    )
    pe.value_checks = bool(
        pe.type_codes is not None
        or pe.fixed is not None
        or pe.pattern is not None
        or pe.bindings
        or pe.min_value is not None
        or pe.max_value is not None
        or pe.target_types is not None
        or pe.constraints
        or pe.type_profiles
    )
    for child in pe.children.values():
        _finalize(child)
    for s in pe.slices:
        _finalize(s)


def _example_url(url: str) -> bool:
    """Example domains: an extension there must have a definition to be allowed."""
    return any(d in url for d in ("example.org/", "example.com/", "acme.com/", "acme.org/"))


def _fixed_url(pe: PElem) -> Any:
    u = pe.children.get("url")
    return u.fixed if u is not None else None


def _in_expansion(v: Any, exp: Expansion) -> bool:
    if isinstance(v, str):
        return any(v in c for c in exp.values())
    if isinstance(v, dict):
        if "coding" in v and isinstance(v["coding"], list):
            return any(_in_expansion(c, exp) for c in v["coding"])
        code = v.get("code")
        return isinstance(code, str) and code in exp.get(str(v.get("system")), ())
    return False

"""Profiles compiled to a tree: what a StructureDefinition adds to base R4, per element.

A profile (and the chain of profiles it derives from) is merged into one element list and
built into a tree of :class:`PElem`, one per element id, each slice hanging off its sliced
element. Only what the profile adds to base R4 is kept (narrowed cardinality and types,
fixed/pattern values, bindings, invariants, slicing, type and target profiles): subtrees
that say nothing more than base R4 are pruned, since the base walk reports base-level
problems already. :mod:`conformance.fhir.profile_check` compiles a tree into its checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from conformance.fhir.core_constraints import CORE_IMPLEMENTATIONS
from conformance.fhir.data import core_data
from conformance.fhir.element_defs import (
    additional_bindings,
    element_ids,
    fixed_pattern,
    segments,
    type_code,
)
from conformance.fhir.invariants import Implementations, Invariant, Predicate
from conformance.fhir.model import Model
from conformance.fhir.terminology import strip_version

CORE_SD = "http://hl7.org/fhir/StructureDefinition/"

#: an element's slicing: its discriminators (type, path), its rules (closed, open,
#: openAtEnd) and whether the slices are ordered
Slicing = tuple[tuple[tuple[str, str], ...], str, bool]


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
        "decl_profiles",
        "decl_target_types",
        "decl_targets",
        "decl_types",
        "eid",
        "ext_key",
        "fixed",
        "fp_base",
        "inherits",
        "max",
        "max_value",
        "min",
        "min_value",
        "must_support",
        "name",
        "path",
        "pattern",
        "quantity",
        "slice_name",
        "sliced",
        "slices",
        "slicing",
        "target_types",
        "type_codes",
        "type_profiles",
        "value_checks",
        "via",
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
        #: as declared, for discriminators: type profiles, target profiles, target types
        #: ("*" for a target profile that is not known)
        self.decl_profiles: tuple[str, ...] = ()
        self.decl_targets: tuple[str, ...] = ()
        self.decl_target_types: frozenset[str] = frozenset()
        self.type_profiles: tuple[str, ...] = ()
        self.target_types: frozenset[str] | None = None
        self.fixed: Any = None
        self.pattern: Any = None
        self.min_value: Any = None
        self.max_value: Any = None
        self.binding: tuple[str, str] | None = None  # the first of bindings
        self.bindings: tuple[tuple[str, str], ...] = ()
        self.constraints: tuple[Invariant, ...] = ()
        self.slicing: Slicing | None = None
        self.must_support = False
        self.fp_base = ""
        self.children: dict[str, PElem] = {}
        self.slices: list[PElem] = []
        # set by _finalize once the tree is built
        self.absent_ok = False  # absence of the element can produce no issue
        self.ext_key: str | None = None  # "_name" for a plain (non-choice) element
        self.counts = True  # has a cardinality rule of its own
        self.sliced = True  # items go through slice matching
        self.value_checks = True  # an item has more to check than its children
        #: the items are Quantities (by the element's name or its declared types): fixed
        #: values of their children compare UCUM codes without annotations
        self.quantity = False
        #: what a differential leaves unsaid of an element, as a snapshot would fill it in
        #: (read by slice discriminators only): the element it restates within the
        #: profile (a slice restates its sliced element), and (profile URL, element id)
        #: of the element it restates in the profile on its type (an extension slice's
        #: parts in the extension's definition)
        self.inherits: PElem | None = None
        self.via: tuple[str, str] | None = None


class CompiledProfile:
    """A profile's tree and what it flags mustSupport."""

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


def _slice(node: PElem, name: str) -> PElem:
    """The slice ``name`` of an element, made on first use. A re-slice ``a/b`` (R4
    §5.1.0.14: a slice of slice ``a``) hangs off slice ``a`` when the profile has it."""
    owner = node
    if "/" in name:
        parent = name.rsplit("/", 1)[0]
        owner = next((s for s in _all_slices(node) if s.slice_name == parent), node)
    found = next((s for s in owner.slices if s.slice_name == name), None)
    if found is None:
        found = PElem(f"{node.eid}:{name}", node.name, name)
        found.path = node.path
        owner.slices.append(found)
    return found


def _all_slices(node: PElem) -> list[PElem]:
    """The slices of an element, and their re-slices."""
    out: list[PElem] = []
    for s in node.slices:
        out.append(s)
        out.extend(_all_slices(s))
    return out


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
    pe.quantity = pe.name.endswith("Quantity") or (
        bool(pe.decl_types) and all(t.endswith("Quantity") for t in pe.decl_types or ())
    )
    for child in pe.children.values():
        _finalize(child)
    for s in pe.slices:
        _finalize(s)


def _inherit(pe: PElem, base: PElem | None, via: tuple[str, str] | None) -> None:
    """Set ``inherits`` and ``via`` (see :class:`PElem`) through a compiled tree."""
    pe.inherits, pe.via = base, via
    prof = pe.decl_profiles[0] if len(pe.decl_profiles) == 1 else None
    types = pe.decl_types or frozenset()
    if prof is not None and len(types) == 1:
        inner: tuple[str, str] | None = (prof, next(iter(types)))
    else:
        inner = via
    for name, child in pe.children.items():
        below = base.children.get(name) if base is not None else None
        _inherit(child, below, (inner[0], f"{inner[1]}.{name}") if inner else None)
    for sl in pe.slices:
        label = sl.slice_name or ""
        same = next((x for x in base.slices if x.slice_name == label), None) if base else None
        _inherit(sl, same or pe, (inner[0], f"{inner[1]}:{label}") if inner else None)


def find_element(root: PElem, eid: str) -> PElem | None:
    """The element of a compiled tree with that element id (None when it says nothing)."""
    node: PElem | None = root
    for name, sl in segments(eid)[1:]:
        node = node.children.get(name) if node is not None else None
        if node is not None and sl is not None:
            node = next((s for s in _all_slices(node) if s.slice_name == sl), None)
        if node is None:
            return None
    return node


#: StructureDefinition by canonical URL (None when unknown)
Lookup = Callable[[str], "dict[str, Any] | None"]


class ProfileCompiler:
    """Builds the :class:`CompiledProfile` of a StructureDefinition.

    ``lookup`` finds profiles by URL (for the derivation chain and target profiles);
    ``implementations`` are constraints evaluated in Python (see
    :class:`~conformance.fhir.invariants.ConstraintImplementation`).
    """

    def __init__(self, model: Model, lookup: Lookup, implementations: Implementations) -> None:
        self.model = model
        self.lookup = lookup
        #: constraints evaluated in Python: the core ones, and those the caller gives
        self.implementations: Implementations = {**CORE_IMPLEMENTATIONS, **implementations}
        rows = core_data()["invariants"]
        self._core_keys = {(k, e) for k, _, _, e in rows}
        self._base_keys = frozenset(k for k, _, _, _ in rows)

    def is_core_type(self, url: str) -> bool:
        return url.startswith(CORE_SD) and url[len(CORE_SD) :] in self.model.types

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
            nxt = self.lookup(b)
            if nxt is None:
                raise ProfileError(f"base profile {b} is not available")
            chain.insert(0, nxt)
            cur = nxt
        return chain

    def compile(self, url: str, sd: dict[str, Any]) -> CompiledProfile:
        """Raises ProfileError when the profile cannot be used."""
        chain = self._chain(url, sd)
        merged: dict[str, dict[str, Any]] = {}
        for prof in chain:
            snap = (
                prof.get("snapshot", {}).get("element")
                if isinstance(prof.get("snapshot"), dict)
                else None
            )
            if snap:
                merged = {eid: dict(e) for eid, e in element_ids(snap)}
                continue
            diff = prof.get("differential", {}).get("element", [])
            for eid, e in element_ids(diff):
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
            segs = segments(eid)
            node = root
            for name, sl in segs[1:]:
                child = node.children.get(name)
                if child is None:
                    child = PElem(f"{node.eid}.{name}", name, None)
                    child.path = f"{node.path}.{name}"
                    node.children[name] = child
                node = child
                if sl is not None:
                    node = _slice(node, sl)
            self._apply(node, e, url)
            if e.get("mustSupport") is True:
                ms.append(eid)
        self._choice_type_slices(root)
        _prune(root)
        _finalize(root)
        _inherit(root, None, None)
        own: list[str] | None = None
        diff = sd.get("differential")
        if isinstance(diff, dict) and isinstance(diff.get("element"), list):
            own = [eid for eid, e in element_ids(diff["element"]) if e.get("mustSupport") is True]
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

    def base_row(self, path: str) -> list[Any] | None:
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
        row = self.base_row(path) if "." in path else None
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
            codes = [type_code(t) for t in types if isinstance(t, dict)]
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
            pe.decl_profiles = tuple(strip_version(p) for p in profs if isinstance(p, str))
            pe.type_profiles = tuple(p for p in profs if not self.is_core_type(strip_version(p)))
            targets = [p for t in types for p in t.get("targetProfile", ()) or ()]
            if targets:
                tt = set()
                for tp in targets:
                    tp = strip_version(tp)
                    if self.is_core_type(tp):
                        tt.add(tp[len(CORE_SD) :])
                    else:
                        tsd = self.lookup(tp)
                        if tsd is None:
                            tt.add("*")
                        else:
                            tt.add(str(tsd.get("type")))
                pe.decl_targets = tuple(strip_version(p) for p in targets if isinstance(p, str))
                pe.decl_target_types = frozenset(tt)
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
        fixed = fixed_pattern(e, "fixed")
        if fixed is not None:
            pe.fixed = fixed
        pattern = fixed_pattern(e, "pattern")
        if pattern is not None:
            pe.pattern = pattern
        mn = fixed_pattern(e, "minValue")
        if mn is not None:
            pe.min_value = mn
        mx = fixed_pattern(e, "maxValue")
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
            bindings.extend(additional_bindings(b))
        if bindings:
            pe.binding = bindings[0]
            pe.bindings = tuple(bindings)
        cons = [
            inv
            for c in e.get("constraint", ()) or ()
            if (inv := self._constraint(c, url, pe.fp_base)) is not None
        ]
        if cons:
            pe.constraints = tuple(cons)
        sl = e.get("slicing")
        if isinstance(sl, dict):
            disc = tuple(
                (str(d.get("type")), str(d.get("path")))
                for d in sl.get("discriminator", ()) or ()
                if isinstance(d, dict)
            )
            pe.slicing = (disc, str(sl.get("rules", "open")), sl.get("ordered") is True)

    def _constraint(self, c: Any, url: str, fp_base: str) -> Invariant | None:
        """The invariant of one constraint of ``url``; None for those base R4 (and so the
        base walk) already evaluates."""
        if not isinstance(c, dict):
            return None
        key, expr = c.get("key"), c.get("expression")
        if not isinstance(key, str) or not isinstance(expr, str):
            return None
        if (
            (key, expr) in self._core_keys
            or key in ("ele-1", "ext-1")
            or (key in self._base_keys and str(c.get("source", "")).startswith(CORE_SD))
        ):
            return None
        severity, human = str(c.get("severity", "error")), str(c.get("human", ""))
        check: Predicate | None = None
        impl = self.implementations.get(key)
        if impl is not None and impl.expression == expr:
            check = impl.check
        return Invariant(key, severity, human, expr, fp_base, url, check)

"""Offline FHIR R4 validation: base specification plus profiles.

The base walk is driven by precompiled per-type rules (``_model``); profiles are compiled
on first use (``profiles``). Messages never carry values from the resource: they say what
is wrong and where.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from conformance.fhir._model import (
    BACKBONE,
    COMPLEX,
    PRIMITIVE,
    RESOURCE,
    Elem,
    Invariant,
    Model,
    Node,
    base_model,
    fast_ok,
)
from conformance.privacy import UNKNOWN_ELEMENT, unknown_name

if TYPE_CHECKING:
    from conformance.fhir.definitions import DefinitionSet
    from conformance.fhir.profiles import ProfileRegistry


class FhirIssue(NamedTuple):
    severity: str  # "error" | "warning" | "information"
    code: str  # stable kebab-case issue code
    expression: str  # FHIRPath-style location
    message: str  # what is wrong and where; never a value from the resource
    source: str  # "base" or the profile canonical URL
    key: str = ""  # the invariant's key (e.g. "dom-6") for invariant issues


_BASE = "base"
_REF_RX = re.compile(
    r"(?:https?://[^\s]*/)?([A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?"
)


class _Walker:
    """One validation run's state: the issues list and the resource context stack."""

    __slots__ = ("extensions", "issues", "model")

    def __init__(self, model: Model) -> None:
        self.model = model
        self.issues: list[FhirIssue] = []
        # (array path, extension list, resource) for checking against definitions later
        self.extensions: list[tuple[str, list[Any], Any]] = []

    def add(self, severity: str, code: str, expression: str, message: str) -> None:
        self.issues.append(FhirIssue(severity, code, expression, message, _BASE))

    # ---------------------------------------------------------------- resources

    def resource(self, obj: Any, path: str | None, root: Any) -> None:
        """Validate a resource; ``path`` None means it is the top-level resource."""
        if type(obj) is not dict:
            self.add("error", "invalid-type", path or "", "A resource must be a JSON object")
            return
        rtype = obj.get("resourceType")
        if type(rtype) is not str or rtype not in self.model.resource_types:
            what = "missing" if rtype is None else "not a known R4 resource type"
            self.add("error", "invalid-resource-type", path or "", f"The resourceType is {what}")
            return
        node = self.model.node(rtype)
        self.object(obj, node, path or rtype, obj, root if root is not None else obj)

    # ----------------------------------------------------------------- objects

    def object(self, obj: dict[str, Any], node: Node, path: str, res: Any, root: Any) -> None:
        if not obj:
            self.add("error", "empty-element", path, "Element has no value and no children (ele-1)")
            return
        children = node.children
        seen: dict[str, str] | None = {} if node.has_choice else None
        for key, value in obj.items():
            e = children.get(key)
            if e is None:
                if key[:1] == "_":
                    self.primitive_ext(obj, key, value, children, path, res, root)
                elif key == "resourceType" and node.is_resource:
                    pass
                else:
                    self.add(  # the name is feed content: described, never echoed
                        "error",
                        "unknown-element",
                        f"{path}.{UNKNOWN_ELEMENT}",
                        f"Unknown element in {node.name}: {unknown_name(key, children)}",
                    )
                continue
            if seen is not None and e.choice is not None:
                other = seen.get(e.choice)
                if other is not None:
                    self.add(
                        "error",
                        "choice-type",
                        f"{path}.{key}",
                        f"Only one of the {e.choice}[x] choices is allowed; "
                        f"found '{other}' and '{key}'",
                    )
                else:
                    seen[e.choice] = key
            if e.array:
                if type(value) is not list:
                    self.add(
                        "error",
                        "invalid-type",
                        f"{path}.{key}",
                        f"Element '{key}' must be a JSON array",
                    )
                    self.value(value, e, f"{path}.{key}", obj, res, root)
                    continue
                if not value:
                    if "_" + key not in obj:
                        self.add(
                            "error",
                            "empty-element",
                            f"{path}.{key}",
                            "Arrays must not be empty (ele-1)",
                        )
                    continue
                if e.max > 0 and len(value) > e.max:
                    self.add(
                        "error",
                        "cardinality-max",
                        f"{path}.{key}",
                        f"Element '{key}' has more than {e.max} items",
                    )
                if e.kind == PRIMITIVE:
                    ok = e.ok
                    assert ok is not None
                    for i, item in enumerate(value):
                        if not ok(item):
                            if item is None and "_" + key in obj:
                                continue  # value carried by the _key sibling
                            self.bad_primitive(item, e, f"{path}.{key}[{i}]")
                        elif e.binding is not None:
                            self.code_binding(item, e, f"{path}.{key}[{i}]")
                    if e.invariants:
                        for i, item in enumerate(value):
                            self.invariants(e.invariants, item, f"{path}.{key}[{i}]", res, root)
                else:
                    if key == "extension" or key == "modifierExtension":
                        self.extensions.append((f"{path}.{key}", value, res))
                    elif (
                        e.kind == COMPLEX
                        and e.binding is None
                        and e.targets is None
                        and not e.invariants
                    ):
                        # plain datatype items: the fast path first, without value()'s
                        # dispatch and path; anything it does not pass is walked in full
                        cnode = e.node or self.model.complex_node(e)
                        spec = cnode.fast or self.model.fast_spec(cnode)
                        if spec.usable:
                            for i, item in enumerate(value):
                                if type(item) is not dict or not fast_ok(item, spec, res, root):
                                    self.value(item, e, f"{path}.{key}[{i}]", obj, res, root)
                            continue
                    for i, item in enumerate(value):
                        self.value(item, e, f"{path}.{key}[{i}]", obj, res, root)
            else:
                kind = e.kind
                if kind == PRIMITIVE:
                    ok = e.ok
                    assert ok is not None
                    if not ok(value):
                        if value is None and "_" + key in obj:
                            continue
                        if type(value) is list:
                            self.add(
                                "error",
                                "invalid-type",
                                f"{path}.{key}",
                                f"Element '{key}' must not be an array",
                            )
                            continue
                        self.bad_primitive(value, e, f"{path}.{key}")
                    elif e.binding is not None:
                        self.code_binding(value, e, f"{path}.{key}")
                    if e.invariants:
                        self.invariants(e.invariants, value, f"{path}.{key}", res, root)
                elif kind == COMPLEX and type(value) is dict:
                    sub = f"{path}.{key}"
                    cnode = e.node or self.model.complex_node(e)
                    spec = cnode.fast or self.model.fast_spec(cnode)
                    if not (spec.usable and fast_ok(value, spec, res, root)):
                        self.object(value, cnode, sub, res, root)
                    if e.binding is not None:
                        self.coded_binding(value, e, sub)
                    if e.targets is not None:
                        self.reference_target(value, e, sub)
                    if e.invariants:
                        self.invariants(e.invariants, value, sub, res, root)
                elif type(value) is list:
                    self.add(
                        "error",
                        "invalid-type",
                        f"{path}.{key}",
                        f"Element '{key}' must not be an array",
                    )
                else:
                    self.value(value, e, f"{path}.{key}", obj, res, root)
        for group, names in node.required:
            for n in names:
                if n in obj:
                    break
            else:
                self.add(
                    "error",
                    "cardinality-min",
                    f"{path}.{group}",
                    f"Missing required element '{group}' in {node.name}",
                )
        if node.invariants:
            self.invariants(node.invariants, obj, path, res, root)

    def value(
        self, value: Any, e: Elem, path: str, parent: dict[str, Any], res: Any, root: Any
    ) -> None:
        kind = e.kind
        if kind == PRIMITIVE:
            prim = e.prim
            assert prim is not None
            if not prim.ok(value):
                if value is None and "_" + e.name in parent:
                    return
                self.bad_primitive(value, e, path)
            elif e.binding is not None:
                self.code_binding(value, e, path)
            if e.invariants:
                self.invariants(e.invariants, value, path, res, root)
            return
        if type(value) is not dict:
            self.add(
                "error",
                "invalid-type",
                path,
                f"Element '{e.name}' must be a JSON object ({e.type})",
            )
            return
        if kind == COMPLEX:
            node = e.node or self.model.complex_node(e)
            spec = node.fast or self.model.fast_spec(node)
            if not (spec.usable and fast_ok(value, spec, res, root)):
                self.object(value, node, path, res, root)
            if e.binding is not None:
                self.coded_binding(value, e, path)
            if e.targets is not None:
                self.reference_target(value, e, path)
            if e.invariants:
                self.invariants(e.invariants, value, path, res, root)
        elif kind == BACKBONE:
            bnode = e.node
            if bnode is None:
                bnode = e.node = self.model.node(e.type)
            self.object(value, bnode, path, res, root)
        elif kind == RESOURCE:
            rtype = value.get("resourceType")
            if e.type != "Resource" and rtype != e.type:
                self.add(
                    "error",
                    "invalid-type",
                    path,
                    f"Element '{e.name}' must hold a {e.type} resource",
                )
                return
            # contained resources see their container as %rootResource
            self.resource(value, path, root if e.name == "contained" else None)

    def primitive_ext(
        self,
        obj: dict[str, Any],
        key: str,
        value: Any,
        children: dict[str, Elem],
        path: str,
        res: Any,
        root: Any,
    ) -> None:
        name = key[1:]
        e = children.get(name)
        if e is None or e.kind != PRIMITIVE:
            self.add(  # the name is feed content: described, never echoed
                "error",
                "unknown-element",
                f"{path}.{UNKNOWN_ELEMENT}",
                f"Unknown element: {unknown_name(key, children)}, and no primitive element "
                "of that name here",
            )
            return
        node = self.model.node("Element")
        if e.array:
            base = obj.get(name)
            if type(value) is not list:
                self.add(
                    "error",
                    "invalid-type",
                    f"{path}.{key}",
                    f"Element '{key}' must be a JSON array",
                )
                return
            if base is not None and (type(base) is not list or len(base) != len(value)):
                self.add(
                    "error",
                    "invalid-type",
                    f"{path}.{key}",
                    f"Arrays '{name}' and '{key}' must have the same length",
                )
            for i, item in enumerate(value):
                if item is None:
                    if type(base) is not list or i >= len(base) or base[i] is None:
                        self.add(
                            "error",
                            "empty-element",
                            f"{path}.{name}[{i}]",
                            "Primitive has neither a value nor extensions (ele-1)",
                        )
                    continue
                if type(item) is not dict:
                    self.add(
                        "error",
                        "invalid-type",
                        f"{path}.{key}[{i}]",
                        f"Element '{key}' items must be JSON objects",
                    )
                    continue
                self.object(item, node, f"{path}.{name}[{i}]", res, root)
        else:
            if type(value) is not dict:
                self.add(
                    "error",
                    "invalid-type",
                    f"{path}.{key}",
                    f"Element '{key}' must be a JSON object",
                )
                return
            self.object(value, node, f"{path}.{name}", res, root)

    # ------------------------------------------------------------------ checks

    def bad_primitive(self, value: Any, e: Elem, path: str) -> None:
        prim = e.prim
        assert prim is not None
        if value == "" or value is None:
            self.add(
                "error",
                "empty-element",
                path,
                f"Element '{e.name}' has an empty or null value (ele-1)",
            )
        elif type(value) in (dict, list):
            self.add(
                "error", "invalid-type", path, f"Element '{e.name}' must be a primitive {prim.name}"
            )
        elif prim.name in ("boolean", "integer", "positiveInt", "unsignedInt", "decimal") or (
            type(value) is not str
        ):
            self.add(
                "error",
                "invalid-type",
                path,
                f"Element '{e.name}' must be {prim.expect} ({prim.name})",
            )
        else:
            self.add(
                "error", "invalid-primitive", path, f"Element '{e.name}' is not a valid {prim.name}"
            )

    def code_binding(self, value: Any, e: Elem, path: str) -> None:
        b = e.binding
        assert b is not None
        if e.type in ("code", "string", "uri") and value not in b.codes:
            if b.strength == "extensible" and ":" in value:
                return  # extensible: another absolute URI/code system is allowed
            if b.strength == "required":
                self.add(
                    "error",
                    "binding-required",
                    path,
                    f"The code in '{e.name}' is not in the required value set {b.valueset}",
                )
            else:
                self.add(
                    "warning",
                    "binding-extensible",
                    path,
                    f"The code in '{e.name}' is not in the extensible value set {b.valueset}",
                )

    def coded_binding(self, value: dict[str, Any], e: Elem, path: str) -> None:
        b = e.binding
        assert b is not None
        if e.type == "CodeableConcept":
            codings = value.get("coding")
            if type(codings) is not list:
                codings = []
            if any(b.has_coding(c) for c in codings):
                return
            if b.strength == "extensible" and (not codings or "text" in value):
                return
            if b.strength == "required" and not codings:
                return  # text-only concepts: nothing coded to check
        elif e.type == "Coding":
            if b.has_coding(value) or "code" not in value:
                return
        elif e.type in ("Quantity", "SimpleQuantity", "Duration", "Age", "Count", "Distance"):
            code = value.get("code")
            if code is None or code in b.codes:
                return
        else:
            return
        if b.strength == "required":
            self.add(
                "error",
                "binding-required",
                path,
                f"No coding in '{e.name}' is from the required value set {b.valueset}",
            )
        else:
            self.add(
                "warning",
                "binding-extensible",
                path,
                f"No coding in '{e.name}' is from the extensible value set {b.valueset}",
            )

    def reference_target(self, value: dict[str, Any], e: Elem, path: str) -> None:
        targets = e.targets
        assert targets is not None
        if "Resource" in targets:
            return
        ref = value.get("reference")
        rtype = None
        if type(ref) is str:
            m = _REF_RX.fullmatch(ref)
            if m is not None:
                rtype = m.group(1)
        elif type(value.get("type")) is str:
            rtype = value["type"]
        if rtype is not None and rtype in self.model.resource_types and rtype not in targets:
            self.add(
                "error",
                "reference-target",
                path,
                f"Reference '{e.name}' points at a {rtype}, which is not an allowed target",
            )

    def invariants(
        self, invs: tuple[Invariant, ...], focus: Any, path: str, res: Any, root: Any
    ) -> None:
        for inv in invs:
            if inv.trigger is not None and inv.trigger not in focus:
                continue
            try:
                ok = inv.check(focus, res, root)
            except Exception as exc:  # a broken expression must never crash validation
                self.issues.append(
                    FhirIssue(
                        "warning",
                        "invariant-error",
                        path,
                        f"Invariant {inv.key} could not be evaluated ({type(exc).__name__})",
                        inv.source,
                    )
                )
                continue
            if not ok:
                self.issues.append(
                    FhirIssue(
                        inv.severity,
                        "invariant",
                        path,
                        f"Constraint {inv.key} failed: {inv.human}",
                        inv.source,
                        inv.key,
                    )
                )


class FhirValidator:
    """Base R4 validation, optionally extended with profiles and terminology."""

    _base: FhirValidator | None = None

    def __init__(
        self,
        model: Model,
        registry: ProfileRegistry | None = None,
        allow_example_urls: bool = False,
    ) -> None:
        self._model = model
        self._registry = registry
        self.allow_example_urls = allow_example_urls

    def allowing_example_urls(self) -> FhirValidator:
        """A validator that accepts undefined extensions on example domains (example.org),
        as HL7's own example build does; feeds should not carry them."""
        return FhirValidator(self._model, self._registry, allow_example_urls=True)

    @classmethod
    def base(cls) -> FhirValidator:
        """Base R4 only; cached per process."""
        if cls._base is None:
            cls._base = cls(base_model())
        return cls._base

    @property
    def model(self) -> Model:
        return self._model

    def with_definitions(self, definitions: DefinitionSet) -> FhirValidator:
        """A validator that also knows the profiles, extensions and terminology given."""
        from conformance.fhir.profiles import ProfileRegistry

        parent = self._registry.definitions if self._registry is not None else None
        merged = definitions if parent is None else parent.merged(definitions)
        return FhirValidator(
            self._model, ProfileRegistry(self._model, merged), self.allow_example_urls
        )

    @property
    def registry(self) -> ProfileRegistry:
        if self._registry is None:
            from conformance.fhir.definitions import DefinitionSet
            from conformance.fhir.profiles import ProfileRegistry

            self._registry = ProfileRegistry(self._model, DefinitionSet([]))
        return self._registry

    def validate(self, resource: dict[str, Any], profiles: Sequence[str] = ()) -> list[FhirIssue]:
        """Validate against base R4, the given profiles and those claimed in meta.profile."""
        w = _Walker(self._model)
        w.resource(resource, None, None)
        issues = w.issues
        claimed = _claimed_profiles(resource)
        vital = _vital_signs_profile(resource)
        if vital is not None:
            profiles = (*profiles, vital)
        extra = False
        if w.extensions:
            got = self.registry.check_extensions(w.extensions, self.allow_example_urls)
            extra = bool(got)
            issues.extend(got)
        if profiles or claimed:
            issues.extend(self.registry.validate(resource, profiles, claimed, True))
            extra = True
        if type(resource) is dict and resource.get("resourceType") == "Bundle":
            got = self._bundle_entry_profiles(resource)
            if resource.get("type") in ("document", "message"):
                got.extend(_bundle_references(resource, resource.get("type") == "document"))
            extra = extra or bool(got)
            issues.extend(got)
        if extra:  # the same finding can come from a profile and an extension definition
            issues = list(dict.fromkeys(issues))
        return issues

    def _bundle_entry_profiles(self, bundle: dict[str, Any]) -> list[FhirIssue]:
        out: list[FhirIssue] = []
        entries = bundle.get("entry")
        if type(entries) is not list:
            return out
        for i, entry in enumerate(entries):
            res = entry.get("resource") if type(entry) is dict else None
            if type(res) is not dict:
                continue
            claimed = _claimed_profiles(res)
            vital = _vital_signs_profile(res)
            if vital is not None:
                claimed = (*claimed, vital)
            if claimed:
                prefix = f"Bundle.entry[{i}].resource"
                for issue in self.registry.validate(res, (), claimed, True):
                    expr = issue.expression
                    rtype = res.get("resourceType")
                    if isinstance(rtype, str) and expr.startswith(rtype):
                        expr = prefix + expr[len(rtype) :]
                    out.append(issue._replace(expression=expr))
            if res.get("resourceType") == "Bundle":
                out.extend(self._bundle_entry_profiles(res))
        return out

    def must_support_paths(self, profile: str, inherited: bool = True) -> list[str]:
        """The element ids a profile flags mustSupport (for completeness scoring).

        ``inherited=False`` gives only those the profile's own differential flags, not the
        ones its base profiles (e.g. UK Core) already flag.
        """
        return self.registry.must_support_paths(profile, inherited)


_SD = "http://hl7.org/fhir/StructureDefinition/"
_LOINC = "http://loinc.org"
_SCT = "http://snomed.info/sct"
#: R4 requires vital-sign Observations to conform to these core profiles (R4 §8.1.2);
#: the LOINC codes are the profiles' own, the SNOMED CT ones the equivalents HL7's
#: validator also recognises.
_VITAL_SIGNS: dict[tuple[str, str], str] = {
    (_LOINC, "85353-1"): _SD + "vitalspanel",
    (_LOINC, "9279-1"): _SD + "resprate",
    (_LOINC, "8867-4"): _SD + "heartrate",
    (_LOINC, "2708-6"): _SD + "oxygensat",
    (_LOINC, "8310-5"): _SD + "bodytemp",
    (_LOINC, "8302-2"): _SD + "bodyheight",
    (_LOINC, "9843-4"): _SD + "headcircum",
    (_LOINC, "29463-7"): _SD + "bodyweight",
    (_LOINC, "39156-5"): _SD + "bmi",
    (_LOINC, "85354-9"): _SD + "bp",
    (_SCT, "86290005"): _SD + "resprate",
    (_SCT, "364075005"): _SD + "heartrate",
    (_SCT, "276885007"): _SD + "bodytemp",
    (_SCT, "50373000"): _SD + "bodyheight",
    (_SCT, "363812007"): _SD + "headcircum",
    (_SCT, "27113001"): _SD + "bodyweight",
    (_SCT, "60621009"): _SD + "bmi",
    (_SCT, "75367002"): _SD + "bp",
}


def _vital_signs_profile(resource: Any) -> str | None:
    if type(resource) is not dict or resource.get("resourceType") != "Observation":
        return None
    code = resource.get("code")
    codings = code.get("coding") if type(code) is dict else None
    if type(codings) is not list:
        return None
    for c in codings:
        if type(c) is dict:
            system, value = c.get("system"), c.get("code")
            if type(system) is not str or type(value) is not str:
                continue
            hit = _VITAL_SIGNS.get((system, value))
            if hit is not None:
                return hit
    return None


def _claimed_profiles(resource: Any) -> tuple[str, ...]:
    if type(resource) is not dict:
        return ()
    meta = resource.get("meta")
    if type(meta) is not dict:
        return ()
    claimed = meta.get("profile")
    if type(claimed) is not list:
        return ()
    return tuple(p for p in claimed if type(p) is str)


_HISTORY = re.compile(r"(.*)/_history/([A-Za-z0-9\-.]{1,64})")


def _collect_refs(obj: Any, path: str, out: list[tuple[str, str]]) -> None:
    if type(obj) is dict:
        ref = obj.get("reference")
        if type(ref) is str:
            out.append((path, ref))
        for k, v in obj.items():
            if k != "contained":
                _collect_refs(v, f"{path}.{k}", out)
    elif type(obj) is list:
        for i, v in enumerate(obj):
            _collect_refs(v, f"{path}[{i}]", out)


def _bundle_references(bundle: dict[str, Any], must_resolve: bool) -> list[FhirIssue]:
    """References inside a document or message Bundle must not be ambiguous; in a
    document they must also resolve to an entry."""
    entries = bundle.get("entry")
    if type(entries) is not list:
        return []
    index: dict[str, list[tuple[int, Any]]] = {}
    for i, entry in enumerate(entries):
        if type(entry) is not dict:
            continue
        res = entry.get("resource")
        version = None
        if type(res) is dict and type(res.get("meta")) is dict:
            version = res["meta"].get("versionId")
        keys: set[str] = set()
        full = entry.get("fullUrl")
        if type(full) is str:
            keys.add(full)
        if type(res) is dict and type(res.get("id")) is str:
            local = f"{res.get('resourceType')}/{res['id']}"
            if type(full) is not str or full.endswith("/" + local):
                keys.add(local)
        for k in keys:
            index.setdefault(k, []).append((i, version))
    out: list[FhirIssue] = []
    for i, entry in enumerate(entries):
        res = entry.get("resource") if type(entry) is dict else None
        if type(res) is not dict:
            continue
        refs: list[tuple[str, str]] = []
        _collect_refs(res, f"Bundle.entry[{i}].resource", refs)
        for path, ref in refs:
            if ref.startswith("#"):
                continue
            m = _HISTORY.fullmatch(ref)
            target, version = (m.group(1), m.group(2)) if m else (ref, None)
            found = index.get(target, [])
            if version is not None:
                found = [f for f in found if f[1] == version]
            if len(found) > 1:
                out.append(
                    FhirIssue(
                        "error",
                        "reference-ambiguous",
                        path,
                        "Reference matches more than one entry in the Bundle",
                        _BASE,
                    )
                )
            elif not found and must_resolve and not _REMOTE.match(ref):
                out.append(
                    FhirIssue(
                        "error",
                        "reference-not-found",
                        path,
                        "Reference does not resolve to an entry in the Bundle",
                        _BASE,
                    )
                )
    return out


#: absolute references to elsewhere (not in the Bundle's own fullUrl space) are left alone
_REMOTE = re.compile(r"https?://")

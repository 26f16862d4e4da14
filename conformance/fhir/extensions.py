"""Extensions met in a resource, checked as the HL7 validator's command line does.

- An extension whose definition is not known is an error, unless its URL is on a domain
  the run allows (``--allow-extension-domain``; example domains with
  ``--allow-example-extensions``), where it is reported for information only. An unknown
  ``modifierExtension`` is always an error: what it changes cannot be known.
- A known extension must be used where its definition's ``context`` allows (R4
  §2.22.2.3: ``element`` paths, including the element's type and base types, ``fhirpath``
  expressions and ``extension`` URLs), its ``contextInvariant`` must hold there, and it
  must be a modifier extension exactly when its definition says ``isModifier``.

The rest of an extension's content is checked by the compiled definition (see
:meth:`~conformance.fhir.profiles.ProfileRegistry.check_extensions`). Messages never echo
values from the resource; the extension's URL is the issue's ``source``.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from conformance.fhir.fhirpath import CompiledExpression, FhirPathError, compile_expression
from conformance.fhir.issues import FhirIssue
from conformance.fhir.model import BACKBONE, COMPLEX, PRIMITIVE, RESOURCE, Model

#: example domains (as ``FhirValidator.allow_example_urls`` and the HL7 example build)
EXAMPLE_DOMAINS = ("example.org/", "example.com/", "acme.com/", "acme.org/")
#: extensions the reference validator always accepts without a definition
_ALWAYS_ALLOWED = ("http://hl7.org/fhir/tools/StructureDefinition/",)
#: HL7's own namespace: the extensions pack, cross-version and test extensions are defined
#: in packages not shipped here, so one not known is not checked (never called undefined)
_HL7 = "http://hl7.org/fhir/"
#: where any extension may be used: examples, fixed and pattern values of definitions
_ANYWHERE = (
    "ElementDefinition.example",
    "ElementDefinition.fixed",
    "ElementDefinition.pattern",
    "ElementDefinition.defaultValue",
)


class ExtensionPolicy(NamedTuple):
    """Which extensions without a definition a run accepts."""

    allow_examples: bool = False
    domains: tuple[str, ...] = ()

    def unknown(self, url: str, modifier: bool, at: str) -> FhirIssue:
        """The issue of an extension whose definition is not known."""
        if modifier:
            message = "Modifier extension is not defined, so it is not allowed here"
            return FhirIssue("error", "unknown-extension", at, message, url)
        if (self.allow_examples and any(d in url for d in EXAMPLE_DOMAINS)) or any(
            url.startswith(d) for d in self.domains
        ):
            message = "Extension is not defined; its domain is allowed, so it is not checked"
            return FhirIssue("information", "unknown-extension", at, message, url)
        if url.startswith(_ALWAYS_ALLOWED) or "nema.org" in url:
            message = "Extension definition not available; not checked"
            return FhirIssue("information", "unknown-extension", at, message, url)
        if url.startswith(_HL7):
            message = "Extension definition not available; not checked"
            return FhirIssue("information", "unknown-extension", at, message, url)
        message = "Extension is not defined, so it is not allowed here"
        return FhirIssue("error", "unknown-extension", at, message, url)


class Place(NamedTuple):
    """Where an extension array sits: the element holding it (its *container*)."""

    container: Any  # the JSON object holding the array (for a primitive: its ``_name``)
    value: Any  # the element's value (a primitive's own value; else the container)
    fhir_type: str | None  # the element's type (backbone: its definition path)
    names: tuple[str, ...]  # the element's paths and types, as context expressions name them
    is_resource: bool
    parent_url: str | None  # the URL of the extension the element is (or is the value of)


_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?")


def locate(model: Model, root: Any, expression: str) -> Place | None:
    """The element holding the extension array at ``expression`` (a path from the top
    resource ``root``, as the base walk reports it); None if it cannot be followed."""
    parts = expression.split(".")
    if len(parts) < 2 or type(root) is not dict or root.get("resourceType") != parts[0]:
        return None
    if len(parts) == 2:  # on the resource itself: the usual case
        return Place(root, root, parts[0], _resource_names(model, parts[0]), True, None)
    obj: Any = root
    value: Any = root
    key = parts[0]  # node key: a type name or a backbone path
    ftype: str | None = parts[0]
    paths = [parts[0]]  # the element's path from its resource and from each datatype
    extra: list[str] = []
    is_resource = True
    parent_url: str | None = None
    for seg in parts[1:-1]:
        m = _SEGMENT.fullmatch(seg)
        if m is None or type(obj) is not dict:
            return None
        name, index = m.group(1), m.group(2)
        try:
            elem = model.node(key).children.get(name)
        except KeyError:
            return None
        if elem is None:
            return None
        if ftype == "Extension" and type(obj) is dict:
            url = obj.get("url")
            parent_url = url if type(url) is str and name.startswith("value") else None
        else:
            parent_url = None
        if elem.kind == PRIMITIVE:
            value, obj = obj.get(name), obj.get("_" + name)
        else:
            value = obj = obj.get(name)
        if index is not None:
            i = int(index)
            value = value[i] if type(value) is list and i < len(value) else None
            obj = obj[i] if type(obj) is list and i < len(obj) else None
        last = elem.path.rsplit(".", 1)[1]
        # a choice is named by its definition (value[x]) and by its JSON name (valueQuantity)
        extra = [p + "." + name for p in paths] if elem.choice is not None else []
        is_resource = False
        if elem.kind == RESOURCE:
            rtype = obj.get("resourceType") if type(obj) is dict else None
            if type(rtype) is not str:
                return None
            key = ftype = rtype
            paths = [rtype]
            is_resource = True
        elif elem.kind == BACKBONE:
            paths = [p + "." + last for p in paths]
            key = ftype = elem.type
            if elem.type not in paths:
                extra.append(elem.type)  # a content reference (Questionnaire.item.item)
        elif elem.kind == COMPLEX:
            paths = [p + "." + last for p in paths] + [elem.type]
            key = ftype = elem.type
        else:
            paths = [p + "." + last for p in paths]
            ftype = elem.type
    if parts[-1] not in ("extension", "modifierExtension"):
        return None
    names = [*paths, *extra]
    if ftype is not None and ftype not in names:
        names.append(ftype)
    names.extend(_based(model, names))
    return Place(
        obj,
        value,
        ftype,
        tuple(dict.fromkeys(names)),
        is_resource,
        parent_url or (_url(obj) if ftype == "Extension" else None),
    )


_RESOURCE_NAMES: dict[str, tuple[str, ...]] = {}


def _resource_names(model: Model, rtype: str) -> tuple[str, ...]:
    """A resource type and its bases (``Patient``, ``DomainResource``, ``Resource``)."""
    got = _RESOURCE_NAMES.get(rtype)
    if got is None:
        got = _RESOURCE_NAMES[rtype] = (rtype, *_based(model, [rtype]))
    return got


def _url(obj: Any) -> str | None:
    url = obj.get("url") if type(obj) is dict else None
    return url if type(url) is str else None


def _based(model: Model, names: list[str]) -> list[str]:
    """The names with their first part replaced by each of its base types (``Patient``
    -> ``DomainResource``, ``Resource``; ``HumanName`` -> ``Element``)."""
    out: list[str] = []
    for n in names:
        head, dot, tail = n.partition(".")
        t = model.types.get(head)
        seen = 0
        while t is not None and seen < 10:
            base = t.get("base")
            if not isinstance(base, str):
                break
            base = base.rsplit("/", 1)[-1]
            out.append(base + dot + tail)
            t = model.types.get(base)
            seen += 1
    return out


#: contexts the reference validator adds to core definitions whose R4 context is too
#: narrow for how the specification itself uses them (its ``fixContexts``)
_MORE_CONTEXTS = {
    _HL7 + "StructureDefinition/structuredefinition-fhir-type": ("ElementDefinition.type",),
    _HL7 + "StructureDefinition/structuredefinition-normative-version": ("ElementDefinition",),
    _HL7 + "StructureDefinition/regex": ("ElementDefinition.type",),
    _HL7 + "StructureDefinition/capabilitystatement-expectation": (
        "CapabilityStatement.rest.resource.interaction",
        "CapabilityStatement.rest.resource.searchParam",
        "CapabilityStatement.rest.resource.operation",
        "CapabilityStatement.rest.searchParam",
        "CapabilityStatement.rest.operation",
        "CapabilityStatement.rest.interaction",
    ),
}


class Context(NamedTuple):
    """Where a known extension may be used, from its StructureDefinition."""

    elements: tuple[str, ...]  # ``element`` contexts
    extensions: tuple[str, ...]  # ``extension`` contexts (URLs)
    expressions: tuple[str, ...]  # ``fhirpath`` contexts
    invariants: tuple[str, ...]  # contextInvariant
    is_modifier: bool  # the root element's isModifier

    @classmethod
    def of(cls, sd: dict[str, Any]) -> Context:
        elements: list[str] = []
        extensions: list[str] = []
        expressions: list[str] = []
        contexts = sd.get("context")
        for c in contexts if isinstance(contexts, list) else ():
            if not isinstance(c, dict) or not isinstance(c.get("expression"), str):
                continue
            kind, expr = c.get("type"), c["expression"]
            if kind == "element":
                elements.append(expr.split("#", 1)[-1])
            elif kind == "extension":
                extensions.append(expr)
            elif kind == "fhirpath":
                expressions.append(expr)
        if elements:
            elements.extend(_MORE_CONTEXTS.get(str(sd.get("url")), ()))
        invariants = sd.get("contextInvariant")
        return cls(
            tuple(elements),
            tuple(extensions),
            tuple(expressions),
            tuple(i for i in invariants if isinstance(i, str))
            if isinstance(invariants, list)
            else (),
            _is_modifier(sd),
        )

    @property
    def any(self) -> bool:
        return bool(self.elements or self.extensions or self.expressions)

    @property
    def anywhere(self) -> bool:
        """Allowed on any element, with no invariant: where it is need not be found."""
        return not self.invariants and any(e in ("Element", "Any") for e in self.elements)

    def described(self) -> str:
        parts = [*(f"e:{e}" for e in self.elements), *(f"x:{x}" for x in self.extensions)]
        parts.extend(f"p:{p}" for p in self.expressions)
        return ", ".join(parts)


def _is_modifier(sd: dict[str, Any]) -> bool:
    """The root element's isModifier: a differential that does not say inherits the
    base Extension's (false)."""
    for part in ("snapshot", "differential"):
        block = sd.get(part)
        elements = block.get("element") if isinstance(block, dict) else None
        if isinstance(elements, list) and elements and isinstance(elements[0], dict):
            first = elements[0]
            if first.get("path") == "Extension" and isinstance(first.get("isModifier"), bool):
                return bool(first["isModifier"])
    return False


_compiled: dict[str, CompiledExpression] = {}


def _expression(text: str) -> CompiledExpression:
    """A context expression or invariant, compiled once; raises FhirPathError."""
    got = _compiled.get(text)
    if got is None:
        got = _compiled[text] = compile_expression(text)
    return got


def context_issues(
    ctx: Context,
    url: str,
    place: Place | None,
    modifier: bool,
    at: str,
    resource: Any,
    root: Any,
) -> list[FhirIssue]:
    """The issues of a known extension used at ``place`` (``at`` is the extension's path)."""
    out: list[FhirIssue] = []
    if ctx.is_modifier != modifier:
        if modifier:
            message = (
                "Extension is used as a modifierExtension, but its definition is not a modifier"
            )
        else:
            message = "Extension is a modifier (isModifier), so it must be a modifierExtension"
        out.append(FhirIssue("error", "extension-modifier", at, message, url))
    if place is None or not ctx.any:
        return out
    allowed, unknown = _allowed(ctx, place, resource, root)
    if allowed:
        for inv in ctx.invariants:
            try:
                holds = _expression(inv).is_true(resource, _node(place), root_resource=root)
            except FhirPathError:  # parse or evaluation failure: say so
                message = "Extension context invariant cannot be evaluated here; not checked"
                out.append(FhirIssue("warning", "extension-context", at, message, url))
                continue
            if not holds:
                message = "Extension is not allowed here: its context invariant does not hold"
                out.append(FhirIssue("error", "extension-context", at, message, url))
        return out
    where = ", ".join(place.names)
    if unknown:
        message = (
            f"Extension context cannot be evaluated here (allowed: {ctx.described()}; "
            f"this element is {where}); not checked"
        )
        out.append(FhirIssue("warning", "extension-context", at, message, url))
    else:
        message = (
            f"Extension is not allowed here (allowed: {ctx.described()}; this element is {where})"
        )
        out.append(FhirIssue("error", "extension-context", at, message, url))
    return out


def _allowed(ctx: Context, place: Place, resource: Any, root: Any) -> tuple[bool, bool]:
    """(allowed, some context could not be evaluated)."""
    names = place.names
    if any(n.startswith(_ANYWHERE) for n in names):
        return True, False
    for en in ctx.elements:
        if en in ("Element", "Any") or en in names:
            return True, False
        if en in ("Resource", "DomainResource") and place.is_resource:
            return True, False
        if en.endswith("[x]") and any(_choice_match(en, n) for n in names):
            return True, False
    if place.parent_url is not None and place.parent_url in ctx.extensions:
        return True, False
    unknown = False
    for expr in ctx.expressions:
        try:
            nodes = _expression(expr).evaluate_nodes(resource, root_resource=root)
        except FhirPathError:  # an expression this engine cannot evaluate
            unknown = True
            continue
        if any(_same(n, place) for n in nodes):
            return True, False
    return False, unknown


def _choice_match(context: str, name: str) -> bool:
    """``Observation.value[x]`` names ``Observation.valueQuantity`` too."""
    stem = context[:-3]
    return name.startswith(stem) and name[len(stem) : len(stem) + 1].isupper()


def _same(node: Any, place: Place) -> bool:
    if type(node) is not tuple:
        return False
    if type(place.container) is dict and node[0] is place.container:
        return True
    return node[2] is not None and node[2] is place.container


def _node(place: Place) -> Any:
    if place.fhir_type is not None and place.value is not place.container:
        return (place.value, place.fhir_type, place.container)
    return (place.container, place.fhir_type, None)

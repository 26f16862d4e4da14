"""Terminology bindings: a coded value is in the value set its element is bound to.

The base rules (an element of base R4 bound, with an expansion available offline, required
or extensible; R4 §4.1 Terminology bindings) and the profile rule (a binding a profile
adds or changes) live here, and the expansion helpers discriminators use too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.fhir.issues import BASE, FhirIssue, Found
from conformance.fhir.model import Elem
from conformance.fhir.terminology import Expansion

#: one JSON value -> issues relative to it, None when it is fine
ValueRule = Callable[[Any], "list[Found] | None"]
#: (value, the primitive's _name object, its type, %resource) -> issues, as profile checks
ItemRule = Callable[[Any, Any, "str | None", Any], "list[Found] | None"]

_QUANTITIES = ("Quantity", "SimpleQuantity", "Duration", "Age", "Count", "Distance")
CORE_SD = "http://hl7.org/fhir/StructureDefinition/"


def code_binding(e: Elem) -> ValueRule | None:
    """A code (or string, uri) of base R4 bound to a value set: in its expansion."""
    b = e.binding
    if b is None or e.type not in ("code", "string", "uri"):
        return None
    codes, name, vs = b.codes, e.name, b.valueset
    if b.strength == "required":
        missing = FhirIssue(
            "error",
            "binding-required",
            "",
            f"The code in '{name}' is not in the required value set {vs}",
            BASE,
        )

        def required(value: Any) -> list[Found] | None:
            return None if value in codes else [missing]

        return required
    outside = FhirIssue(
        "warning",
        "binding-extensible",
        "",
        f"The code in '{name}' is not in the extensible value set {vs}",
        BASE,
    )

    def extensible(value: Any) -> list[Found] | None:
        if value in codes or ":" in value:
            return None  # another absolute URI (code system) is allowed
        return [outside]

    return extensible


def coded_binding(e: Elem) -> ValueRule | None:
    """A coded datatype of base R4 bound to a value set: a coding (or a unit) in its
    expansion."""
    b = e.binding
    if b is None:
        return None
    type_, name, vs = e.type, e.name, b.valueset
    required = b.strength == "required"
    if required:
        failed = FhirIssue(
            "error",
            "binding-required",
            "",
            f"No coding in '{name}' is from the required value set {vs}",
            BASE,
        )
    else:
        failed = FhirIssue(
            "warning",
            "binding-extensible",
            "",
            f"No coding in '{name}' is from the extensible value set {vs}",
            BASE,
        )
    has_coding = b.has_coding
    if type_ == "CodeableConcept":

        def concept(value: Any) -> list[Found] | None:
            codings = value.get("coding")
            if type(codings) is not list:
                codings = []
            if any(has_coding(c) for c in codings):
                return None
            if not required and (not codings or "text" in value):
                return None
            if required and not codings:
                return None  # text-only concepts: nothing coded to check
            return [failed]

        return concept
    if type_ == "Coding":

        def coding(value: Any) -> list[Found] | None:
            return None if has_coding(value) or "code" not in value else [failed]

        return coding
    if type_ in _QUANTITIES:
        codes = b.codes

        def unit(value: Any) -> list[Found] | None:
            code = value.get("code")
            return None if code is None or code in codes else [failed]

        return unit
    return None


def profile_binding(
    strength: str, vs: str, source: str, expansion: Callable[[str], Expansion | None]
) -> ItemRule:
    """A binding a profile sets: the value meets it (see :func:`binding_ok`). The value set
    is expanded on first use, by ``expansion``; one that cannot be expanded offline is
    not checked."""
    expanded: list[Expansion | None] = []
    lenient = strength == "required" and source.startswith(CORE_SD)
    required = FhirIssue(
        "error",
        "binding-required",
        "",
        f"Code is not in the value set {vs} required by the profile",
        source,
    )
    extensible = FhirIssue(
        "warning",
        "binding-extensible",
        "",
        f"Code is not in the extensible value set {vs} of the profile",
        source,
    )

    def bound(value: Any, ext: Any, t: str | None, res: Any) -> list[Found] | None:
        if not expanded:
            expanded.append(expansion(vs))
        exp = expanded[0]
        if exp is None or binding_ok(value, strength, exp):
            return None
        if strength != "required":
            return [extensible]
        if (
            lenient
            and type(value) is dict
            and "coding" not in value
            and "code" in value
            and "value" in value
        ):
            return [extensible]  # units in the core vital-signs profiles: HL7 warns
        return [required]

    return bound


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


def in_expansion(v: Any, exp: Expansion) -> bool:
    if isinstance(v, str):
        return any(v in c for c in exp.values())
    if isinstance(v, dict):
        if "coding" in v and isinstance(v["coding"], list):
            return any(in_expansion(c, exp) for c in v["coding"])
        code = v.get("code")
        return isinstance(code, str) and code in exp.get(str(v.get("system")), ())
    return False

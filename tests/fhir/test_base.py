"""Base R4 validation: structure, primitives, bindings, invariants, nesting."""

from __future__ import annotations

from typing import Any

import pytest
from fhir_helpers import codes, errors

from conformance.fhir import DefinitionSet, FhirValidator
from conformance.fhir.data import core_data
from conformance.fhir.invariants import Invariant
from conformance.fhir.model import base_model


@pytest.mark.parametrize(
    ("ptype", "value", "ok"),
    [
        ("date", "2024", True),
        ("date", "2024-02", True),
        ("date", "2024-02-29", True),
        ("date", "2023-02-29", False),
        ("date", "2024-13-01", False),
        ("dateTime", "2024-03-01T10:00:00+01:00", True),
        ("dateTime", "2024-03-01T10:00:00", False),
        ("dateTime", "2024-03-01T25:00:00Z", False),
        ("instant", "2024-03-01T10:00:00.123Z", True),
        ("instant", "2024-03-01", False),
        ("time", "23:59:60", True),
        ("time", "24:00:00", False),
        ("boolean", True, True),
        ("boolean", "true", False),
        ("boolean", 1, False),
        ("integer", -5, True),
        ("integer", 2**31, False),
        ("integer", 1.0, False),
        ("integer", True, False),
        ("positiveInt", 0, False),
        ("unsignedInt", 0, True),
        ("decimal", 1.5, True),
        ("decimal", 3, True),
        ("decimal", "1.5", False),
        ("decimal", float("inf"), False),
        ("id", "a-b.c", True),
        ("id", "a" * 65, False),
        ("id", "a_b", False),
        ("code", "a b", True),
        ("code", "a  b", False),
        ("code", " a", False),
        ("string", "x\ny", True),
        ("string", "", False),
        ("uri", "http://x", True),
        ("uri", "a b", False),
        ("oid", "urn:oid:1.2.3", True),
        ("oid", "1.2.3", False),
        ("uuid", "urn:uuid:c757873d-ec9a-4326-a141-556f43239520", True),
        ("base64Binary", "aGVsbG8=", True),
        ("base64Binary", "aGVsbG8", False),
        ("xhtml", '<div xmlns="http://www.w3.org/1999/xhtml">x</div>', True),
        ("xhtml", "<div>x</div>", False),
        ("xhtml", '<div xmlns="http://www.w3.org/1999/xhtml" onclick="x()">x</div>', False),
    ],
)
def test_primitive_checks(ptype: str, value: Any, ok: bool) -> None:
    assert base_model().prims[ptype].ok(value) is ok


def test_paths_and_messages_carry_no_values(base: FhirValidator, patient: dict[str, Any]) -> None:
    patient["name"][0]["family"] = ["Secret-Name"]
    patient["birthDate"] = "1980-13-45"
    issues = errors(base.validate(patient))
    assert {i.expression for i in issues} == {"Patient.name[0].family", "Patient.birthDate"}
    for i in issues:
        assert "Secret" not in i.message and "1980" not in i.message
        assert i.source == "base"


def test_contained_and_bundle_entries_are_validated_recursively(
    base: FhirValidator, patient: dict[str, Any]
) -> None:
    patient["contained"] = [
        {"resourceType": "Organization", "id": "o", "name": "N", "active": "no"}
    ]
    patient["managingOrganization"] = {"reference": "#o"}
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:0a5e1b55-5f2c-4a5b-8e4c-111111111111"},
            {"fullUrl": "urn:uuid:0a5e1b55-5f2c-4a5b-8e4c-222222222222", "resource": patient},
        ],
    }
    exprs = {i.expression for i in errors(base.validate(bundle))}
    # entry[0] has neither resource nor request/response (bdl-5)
    assert exprs == {"Bundle.entry[0]", "Bundle.entry[1].resource.contained[0].active"}


def test_primitive_extension_siblings(base: FhirValidator, patient: dict[str, Any]) -> None:
    patient["_gender"] = {"id": "g1"}
    assert errors(base.validate(patient)) == []
    patient["_gender"] = {"foo": 1}
    assert codes(base.validate(patient)) == {"unknown-element"}
    del patient["_gender"]
    patient["_nickname"] = {"id": "x"}
    assert codes(base.validate(patient)) == {"unknown-element"}
    del patient["_nickname"]
    patient["name"][0]["given"] = ["A", "B"]
    patient["name"][0]["_given"] = [None]
    assert codes(base.validate(patient)) == {"invalid-type"}  # arrays not aligned


def test_required_min_satisfied_by_extension_only(base: FhirValidator) -> None:
    obs = {
        "resourceType": "Observation",
        "code": {"text": "x"},
        "_status": {"extension": [{"url": "http://x.org/e", "valueString": "s"}]},
    }
    assert "cardinality-min" not in codes(base.validate(obs))
    obs.pop("_status")
    assert "cardinality-min" in codes(base.validate(obs))


def test_max_cardinality_for_arrays(base: FhirValidator) -> None:
    # Attachment.data 0..1 but Patient.photo 0..*; Signature.type 1..*; use Narrative-free
    r = {
        "resourceType": "Patient",
        "link": [{"other": {"reference": "Patient/1"}, "type": "seealso"}],
    }
    assert errors(base.validate(r)) == []
    r["link"][0]["type"] = "nope"
    assert codes(base.validate(r)) == {"binding-required"}


def test_extensible_binding_warns_only_without_text(
    base: FhirValidator, patient: dict[str, Any]
) -> None:
    ident = patient["identifier"][0]
    ident["type"] = {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "XX-NOT-A-CODE"}
        ]
    }
    found = [i for i in base.validate(patient) if i.code == "binding-extensible"]
    assert [i.severity for i in found] == ["warning"]
    ident["type"]["text"] = "Local identifier"
    assert not [i for i in base.validate(patient) if i.code == "binding-extensible"]


def test_invariant_error_never_crashes(base: FhirValidator) -> None:
    # a constraint whose expression cannot be evaluated is a warning, never a crash
    url = "http://example.org/StructureDefinition/broken-constraint"
    profile = {
        "resourceType": "StructureDefinition",
        "url": url,
        "name": "Broken",
        "status": "draft",
        "kind": "resource",
        "abstract": False,
        "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "derivation": "constraint",
        "differential": {
            "element": [
                {
                    "id": "Patient.contact",
                    "path": "Patient.contact",
                    "constraint": [
                        {
                            "key": "x-1",
                            "severity": "error",
                            "human": "cannot be read",
                            "expression": "name.where(",
                        }
                    ],
                }
            ]
        },
    }
    v = base.with_definitions(DefinitionSet([profile]))
    issues = v.validate({"resourceType": "Patient", "contact": [{"gender": "male"}]}, [url])
    assert [
        (i.code, i.severity, i.source) for i in issues if i.expression == "Patient.contact[0]"
    ] == [
        ("invariant", "error", "base"),  # pat-1: a contact needs details
        ("invariant-error", "warning", url),
    ]


def test_fhirpath_invariants_from_data_are_evaluated(base: FhirValidator) -> None:
    # ras-2 has no native implementation: it runs through the FHIRPath engine
    ra = {
        "resourceType": "RiskAssessment",
        "status": "final",
        "subject": {"reference": "Patient/1"},
        "prediction": [{"probabilityDecimal": 150}],
    }
    assert [i.message.split(":")[0] for i in errors(base.validate(ra))] == [
        "Constraint ras-2 failed"
    ]
    ra["prediction"][0]["probabilityDecimal"] = 50
    assert errors(base.validate(ra)) == []


@pytest.mark.parametrize(
    ("key", "focus", "ok"),
    [
        ("per-1", {"start": "2024-01-01T10:00:00Z", "end": "2024-01-01T11:00:00+02:00"}, False),
        ("per-1", {"start": "2024-01-01T10:00:00+02:00", "end": "2024-01-01T09:00:00Z"}, True),
        ("per-1", {"start": "2024-01-01", "end": "2024-01-01T09:00:00Z"}, True),
        ("rng-2", {"low": {"value": 5, "code": "kg"}, "high": {"value": 2, "code": "kg"}}, False),
        ("rng-2", {"low": {"value": 1, "code": "kg"}, "high": {"value": 2, "code": "kg"}}, True),
        ("rng-2", {"low": {"value": 5, "code": "g"}, "high": {"value": 2, "code": "kg"}}, True),
    ],
)
def test_invariants_on_times_and_quantities(key: str, focus: dict[str, Any], ok: bool) -> None:
    # FHIRPath comparison: time zones count; different units or precisions are not
    # comparable (empty), which does not violate the constraint
    human, expression = next((h, e) for k, _, h, e in core_data()["invariants"] if k == key)
    focus_type = "Period" if key == "per-1" else "Range"
    invariant = Invariant(key, "error", human, expression, focus_type)
    assert invariant.predicate()(focus, {}, {}) is ok


def test_dom_invariants(base: FhirValidator, patient: dict[str, Any]) -> None:
    patient["contained"] = [
        {
            "resourceType": "Organization",
            "id": "o",
            "name": "N",
            "meta": {"versionId": "1"},
            "contained": [{"resourceType": "Basic", "id": "b", "code": {"text": "x"}}],
        }
    ]
    patient["managingOrganization"] = {"reference": "#o"}
    msgs = {i.message.split(":")[0] for i in errors(base.validate(patient))}
    # dom-3 too: the nested contained Basic is referenced from nowhere
    assert msgs == {"Constraint dom-2 failed", "Constraint dom-3 failed", "Constraint dom-4 failed"}
    del patient["text"]
    patient.pop("contained")
    patient.pop("managingOrganization")
    assert [i.severity for i in base.validate(patient) if "dom-6" in i.message] == ["warning"]


def test_document_bundle_references_resolve(base: FhirValidator) -> None:
    comp = {
        "resourceType": "Composition",
        "status": "final",
        "type": {"text": "x"},
        "date": "2024-01-01",
        "title": "t",
        "author": [{"reference": "Practitioner/p"}],
        "subject": {"reference": "Patient/missing"},
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "document",
        "identifier": {
            "system": "urn:ietf:rfc:3986",
            "value": "urn:uuid:0a5e1b55-5f2c-4a5b-8e4c-333333333333",
        },
        "timestamp": "2024-01-01T00:00:00Z",
        "entry": [
            {"fullUrl": "http://x.org/fhir/Composition/c", "resource": comp},
            {
                "fullUrl": "http://x.org/fhir/Practitioner/p",
                "resource": {"resourceType": "Practitioner", "id": "p"},
            },
        ],
    }
    comp["id"] = "c"
    found = [(i.code, i.expression) for i in errors(base.validate(bundle))]
    assert found == [("reference-not-found", "Bundle.entry[0].resource.subject")]


def test_base_is_cached() -> None:
    assert FhirValidator.base() is FhirValidator.base()


@pytest.mark.parametrize(
    "div",
    [
        '<div xmlns="http://www.w3.org/1999/xhtml"><script>x()</script></div>',
        '<div xmlns="http://www.w3.org/1999/xhtml" onclick="x()">x</div>',
        '<div xmlns="http://www.w3.org/1999/xhtml"><a href="javascript:x()">x</a></div>',
        '<div xmlns="http://www.w3.org/1999/xhtml"><a href=" JavaScript:x()">x</a></div>',
        '<div xmlns="http://www.w3.org/1999/xhtml"><a href="java&#9;script:x()">x</a></div>',
        '<div xmlns="http://www.w3.org/1999/xhtml"><p style="x:url(javascript:x)">x</p></div>',
        '<div xmlns="http://www.w3.org/1999/xhtml"><img src="data:text/html,x"/></div>',
        '<div xmlns="http://www.w3.org/1999/xhtml"><iframe src="x"></iframe></div>',
        '<div xmlns="http://www.w3.org/1999/xhtml"><style>p {}</style></div>',
        '<div xmlns="http://www.w3.org/1999/xhtml"><b>not closed</div>',
        "<div>no namespace</div>",
        '<p xmlns="http://www.w3.org/1999/xhtml">not a div</p>',
        '<!DOCTYPE div [<!ENTITY a "b">]><div xmlns="http://www.w3.org/1999/xhtml">&a;</div>',
    ],
)
def test_narrative_xhtml_rules(base: FhirValidator, div: str) -> None:
    # R4 §2.4.0.1: basic formatting elements only, no scripts, forms, frames, styles or
    # event handlers, well-formed XHTML with a div root
    patient = {"resourceType": "Patient", "text": {"status": "generated", "div": div}}
    assert [(i.code, i.expression) for i in errors(base.validate(patient))] == [
        ("invalid-primitive", "Patient.text.div")
    ]


def test_narrative_xhtml_allowed(base: FhirValidator) -> None:
    div = (
        '<div xmlns="http://www.w3.org/1999/xhtml"><p class="x" id="x">A&#160;<b>b</b></p>'
        '<table><tr><td><a href="#x">x</a></td></tr></table><img src="x.png" alt="x"/></div>'
    )
    patient = {"resourceType": "Patient", "text": {"status": "generated", "div": div}}
    assert errors(base.validate(patient)) == []

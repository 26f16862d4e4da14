"""URI rules of R4 (datatypes.html#uri, references.html, resource.html#canonical):
urn:uuid:/urn:oid: syntax, absolute canonical URLs and include systems, local fragments
that must resolve to a contained resource."""

from __future__ import annotations

from typing import Any

import pytest
from fhir_helpers import errors

from conformance.fhir import FhirValidator


def _issues(resource: dict[str, Any]) -> list[Any]:
    return FhirValidator.base().validate(resource)


def _patient_with_system(system: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "identifier": [{"system": system, "value": "x"}]}


@pytest.mark.parametrize(
    ("system", "ok"),
    [
        ("urn:uuid:c757873d-ec9a-4326-a141-556f43239520", True),
        ("urn:uuid:C757873D-EC9A-4326-A141-556F43239520", False),  # uppercase
        ("urn:uuid:c757873d-ec9a-4326-a141", False),  # too short
        ("urn:uuid:not-a-uuid", False),
        ("urn:oid:2.16.840.1.113883.4.1", True),
        ("urn:oid:1.3.88", True),  # a short OID under 1.3, as the reference accepts
        ("urn:oid:1.2", False),  # too short to name anything
        ("urn:oid:2.1.1", False),
        ("urn:oid:2.16.1", True),
        ("urn:oid:2.16.840.01", False),  # leading zero
        ("urn:oid:3.1.2.3.4", False),  # root arc 0-2
        ("urn:oid:abc", False),
        ("oid:2.16.840.1.113883", False),
        ("uuid:c757873d-ec9a-4326-a141-556f43239520", False),
        ("http://example.net/ids", True),
        ("urn:ietf:rfc:3986", True),
    ],
)
def test_urn_uuid_and_oid_syntax(system: str, ok: bool) -> None:
    found = [i for i in errors(_issues(_patient_with_system(system)))]
    if ok:
        assert found == []
    else:
        assert [i.expression for i in found] == ["Patient.identifier[0].system"]
        assert found[0].code == "invalid-primitive"
        assert system not in found[0].message  # the value is not echoed


def test_urn_rules_apply_to_url_and_canonical_types() -> None:
    bad = "urn:uuid:XYZ"
    res = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "t"},
        "meta": {"profile": [bad]},  # canonical
    }
    assert [i.expression for i in errors(_issues(res))] == ["Observation.meta.profile[0]"]
    att = {"resourceType": "Media", "status": "completed", "content": {"url": "uuid:abc"}}
    assert [i.expression for i in errors(_issues(att))] == ["Media.content.url"]


def _value_set(url: str | None = None, system: str = "http://example.net/cs") -> dict[str, Any]:
    vs: dict[str, Any] = {
        "resourceType": "ValueSet",
        "status": "draft",
        "compose": {"include": [{"system": system}], "exclude": [{"system": system}]},
    }
    if url is not None:
        vs["url"] = url
    return vs


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("http://example.net/fhir/ValueSet/x", True),
        ("urn:uuid:c757873d-ec9a-4326-a141-556f43239520", True),
        ("ValueSet/x", False),
        ("#vs1", False),
        ("x", False),
    ],
)
def test_canonical_url_of_a_canonical_resource_is_absolute(url: str, ok: bool) -> None:
    found = [i for i in errors(_issues(_value_set(url))) if i.key == "uri-canonical-absolute"]
    assert (found == []) is ok
    if not ok:
        assert [i.expression for i in found] == ["ValueSet.url"]


def test_canonical_url_in_a_contained_resource_is_absolute() -> None:
    vs = _value_set("relative/url")
    vs["id"] = "vs1"
    q = {
        "resourceType": "Questionnaire",
        "status": "draft",
        "contained": [vs],
        "url": "http://example.net/Questionnaire/q",
    }
    found = [i for i in errors(_issues(q)) if i.key == "uri-canonical-absolute"]
    assert [i.expression for i in found] == ["Questionnaire.contained[0].url"]


def test_url_of_a_non_canonical_resource_is_not_an_identity() -> None:
    # Device.url is the device's network address, not a canonical identity
    device = {"resourceType": "Device", "url": "device-7"}
    assert [i for i in errors(_issues(device)) if i.key == "uri-canonical-absolute"] == []


@pytest.mark.parametrize(
    ("system", "ok"),
    [
        ("http://snomed.info/sct", True),
        ("urn:oid:2.16.840.1.113883.6.96", True),
        ("#cs1", False),
        ("CodeSystem/cs1", False),
    ],
)
def test_value_set_include_and_exclude_system_is_absolute(system: str, ok: bool) -> None:
    found = [i for i in errors(_issues(_value_set(system=system))) if i.key]
    if ok:
        assert found == []
    else:
        assert sorted(i.expression for i in found) == [
            "ValueSet.compose.exclude[0].system",
            "ValueSet.compose.include[0].system",
        ]
        assert {i.key for i in found} == {"uri-system-absolute"}


def _with_source(source: str, contained: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Patient", "meta": {"source": source}}
    if contained is not None:
        res["contained"] = contained
        res["managingOrganization"] = {"reference": f"#{contained[0]['id']}"}
    return res


def test_uri_fragment_should_resolve_to_a_contained_resource() -> None:
    org = {"resourceType": "Organization", "id": "o1", "name": "N"}
    assert errors(_issues(_with_source("#o1", [org]))) == []
    assert [i for i in _issues(_with_source("#o1", [org])) if i.key == "uri-fragment"] == []
    found = [i for i in _issues(_with_source("#nowhere", [org])) if i.key == "uri-fragment"]
    # graded as the reference grades an unresolved meta.source fragment: information
    assert [(i.severity, i.expression) for i in found] == [("information", "Patient.meta.source")]
    assert "nowhere" not in found[0].message
    # no contained resource at all: nothing to resolve to
    assert [i.key for i in _issues(_with_source("#o1")) if i.key[:4] == "uri-"] == ["uri-fragment"]
    # an absolute source is not a fragment
    assert errors(_issues(_with_source("http://example.net/feeds/1"))) == []


def test_canonical_fragment_resolves_to_contained_value_set_else_warns() -> None:
    vs = {"resourceType": "ValueSet", "id": "vs1", "status": "draft"}
    q: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "status": "draft",
        "contained": [vs],
        "item": [
            {"linkId": "1", "type": "choice", "answerValueSet": "#vs1"},
            {"linkId": "2", "type": "choice", "answerValueSet": "#missing"},
        ],
    }
    issues = [i for i in _issues(q) if i.key == "uri-fragment"]
    assert [(i.severity, i.expression) for i in issues] == [
        ("warning", "Questionnaire.item[1].answerValueSet")
    ]


def test_fragment_in_contained_resource_resolves_against_the_container() -> None:
    vs = {"resourceType": "ValueSet", "id": "vs1", "status": "draft"}
    inner = {
        "resourceType": "Questionnaire",
        "id": "q1",
        "status": "draft",
        "item": [{"linkId": "1", "type": "choice", "answerValueSet": "#vs1"}],
    }
    outer = {
        "resourceType": "Questionnaire",
        "status": "draft",
        "contained": [vs, inner],
        "item": [{"linkId": "x", "type": "choice", "answerValueSet": "#q1"}],
    }
    assert [i for i in _issues(outer) if i.key == "uri-fragment"] == []


# ------------------------------------------------------------- CodeSystem supplements


def test_coding_system_naming_a_loaded_supplement_is_an_error() -> None:
    from conformance.fhir import DefinitionSet

    supplement = {
        "resourceType": "CodeSystem",
        "url": "http://example.net/fhir/CodeSystem/supp",
        "status": "draft",
        "content": "supplement",
        "supplements": "http://example.net/fhir/CodeSystem/base",
    }
    complete = {
        "resourceType": "CodeSystem",
        "url": "http://example.net/fhir/CodeSystem/base",
        "status": "draft",
        "content": "complete",
        "concept": [{"code": "a"}],
    }
    v = FhirValidator.base().with_definitions(DefinitionSet([supplement, complete]))

    def obs(system: str) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": system, "code": "a"}]},
            # an Identifier with the same system is not a Coding
            "identifier": [{"system": system, "value": "1"}],
        }

    found = [
        i for i in errors(v.validate(obs(supplement["url"]))) if i.code == "codesystem-supplement"
    ]
    assert [i.expression for i in found] == ["Observation.code.coding[0].system"]
    assert "is a supplement" in found[0].message
    assert [
        i for i in errors(v.validate(obs(complete["url"]))) if i.code == "codesystem-supplement"
    ] == []
    # without the supplement loaded, nothing is known of the system
    base = FhirValidator.base()
    assert [
        i for i in errors(base.validate(obs(supplement["url"]))) if "supplement" in i.message
    ] == []


# ------------------------------------------------------------------- example URLs


def _questionnaire(answer_value_set: str) -> dict[str, Any]:
    return {
        "resourceType": "Questionnaire",
        "status": "draft",
        "item": [{"linkId": "1", "type": "choice", "answerValueSet": answer_value_set}],
        # never judged: identifiers and codings on example domains
        "identifier": [{"system": "http://example.org/ids", "value": "1"}],
        "code": [{"system": "http://example.org/codes", "code": "c"}],
    }


def test_canonical_on_an_example_domain_is_an_error_unless_allowed() -> None:
    url = "http://example.org/fhir/ValueSet/answers"
    strict = FhirValidator.base()
    found = [i for i in strict.validate(_questionnaire(url)) if i.key == "example-url"]
    assert [(i.severity, i.expression) for i in found] == [
        ("error", "Questionnaire.item[0].answerValueSet")
    ]
    assert found[0].message == f"Example URLs are not allowed in this context ({url})"
    lenient = strict.allowing_example_urls()
    assert [i for i in lenient.validate(_questionnaire(url)) if i.key == "example-url"] == []
    # other domains are not judged (example.com resolves in the reference's harness)
    for other in ("http://example.net/fhir/ValueSet/a", "https://example.com/ValueSet/a"):
        assert [i for i in strict.validate(_questionnaire(other)) if i.key == "example-url"] == []


def test_canonical_on_an_example_domain_that_resolves_is_fine() -> None:
    from conformance.fhir import DefinitionSet

    url = "http://example.org/fhir/ValueSet/answers"
    vs = {"resourceType": "ValueSet", "url": url, "version": "1", "status": "draft"}
    v = FhirValidator.base().with_definitions(DefinitionSet([vs]))
    assert [i for i in v.validate(_questionnaire(url)) if i.key == "example-url"] == []
    versioned = _questionnaire(url + "|1")
    assert [i for i in v.validate(versioned) if i.key == "example-url"] == []


def test_example_url_in_a_bundle_entry_names_its_place() -> None:
    url = "http://example.org/fhir/ValueSet/answers"
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": "http://example.net/Q/1", "resource": _questionnaire(url)}],
    }
    found = [i for i in FhirValidator.base().validate(bundle) if i.key == "example-url"]
    assert [i.expression for i in found] == ["Bundle.entry[0].resource.item[0].answerValueSet"]
    assert url in found[0].message


def test_a_code_system_with_a_supplements_element_is_a_supplement() -> None:
    """R4 CodeSystem.supplements: "the code system this adds designations and properties
    to" makes the resource a supplement whatever its content code says."""
    from conformance.fhir import DefinitionSet

    supplement = {
        "resourceType": "CodeSystem",
        "url": "http://example.net/fhir/CodeSystem/supp2",
        "status": "draft",
        "content": "complete",
        "supplements": "http://loinc.org",
    }
    v = FhirValidator.base().with_definitions(DefinitionSet([supplement]))
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": supplement["url"], "code": "a"}]},
    }
    found = [i for i in errors(v.validate(obs)) if i.code == "codesystem-supplement"]
    assert [i.expression for i in found] == ["Observation.code.coding[0].system"]

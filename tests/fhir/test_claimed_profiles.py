"""Profiles claimed in meta.profile apply to every resource that claims them: contained
resources and Bundle entries too, at any depth (a Bundle in a Bundle, resources contained
in an entry), with issue paths that point inside. An unknown claimed profile is a warning
(the reference validator does not fetch it), an unknown profile asked for explicitly an
error (R4 §3.1.0.4 meta.profile; §2.36.0.4 Bundle; §2.21.0.1 contained resources)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.fhir import DefinitionSet, FhirValidator

P = "https://fhir.ics-test.nhs.uk/StructureDefinition/"
DATED = P + "dated-patient"
UNKNOWN = P + "no-such-profile"

DATED_PATIENT = {
    "resourceType": "StructureDefinition",
    "url": DATED,
    "name": "DatedPatient",
    "status": "active",
    "kind": "resource",
    "abstract": False,
    "type": "Patient",
    "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
    "derivation": "constraint",
    "differential": {
        "element": [
            {"id": "Patient", "path": "Patient"},
            {"id": "Patient.birthDate", "path": "Patient.birthDate", "min": 1},
        ]
    },
}


@pytest.fixture(scope="module")
def v() -> FhirValidator:
    return FhirValidator.base().with_definitions(DefinitionSet([DATED_PATIENT]))


def pat(rid: str, *profiles: str, **more: Any) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Patient", "id": rid, "gender": "male"}
    if profiles:
        res["meta"] = {"profile": list(profiles)}
    res.update(more)
    return res


def entry(n: int, res: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:5b3b2d4e-0000-4000-8000-{n:012d}", "resource": res}


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [entry(i, r) for i, r in enumerate(resources)],
    }


def from_profile(issues: list[Any], url: str = DATED) -> list[tuple[str, str, str]]:
    return [(i.severity, i.code, i.expression) for i in issues if i.source == url]


def observation(*contained: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "subject": {"reference": "#" + contained[0]["id"]},
        "contained": list(contained),
    }


def test_top_level_claim(v: FhirValidator) -> None:
    assert from_profile(v.validate(pat("a", DATED, birthDate="2000-01-01"))) == []
    assert from_profile(v.validate(pat("a", DATED))) == [
        ("error", "cardinality-min", "Patient.birthDate")
    ]


def test_contained_resource_claim(v: FhirValidator) -> None:
    obs = observation(pat("p1", DATED))
    assert from_profile(v.validate(obs)) == [
        ("error", "cardinality-min", "Observation.contained[0].birthDate")
    ]
    obs = observation(pat("p1", DATED, birthDate="2000-01-01"))
    assert from_profile(v.validate(obs)) == []


def test_bundle_entries_at_any_depth(v: FhirValidator) -> None:
    inner = bundle(pat("i0"), pat("i1", DATED))
    obs = observation(pat("c0", DATED))
    outer = bundle(pat("o0", DATED, birthDate="2000-01-01"), inner, obs, pat("o3", DATED))
    assert sorted(from_profile(v.validate(outer))) == [
        ("error", "cardinality-min", "Bundle.entry[1].resource.entry[1].resource.birthDate"),
        ("error", "cardinality-min", "Bundle.entry[2].resource.contained[0].birthDate"),
        ("error", "cardinality-min", "Bundle.entry[3].resource.birthDate"),
    ]


def test_unknown_claimed_profile_is_a_warning_where_it_is_claimed(v: FhirValidator) -> None:
    obs = observation(pat("p1", UNKNOWN))
    got = from_profile(v.validate(bundle(pat("a", UNKNOWN), obs)), UNKNOWN)
    assert got == [
        ("warning", "unknown-profile", "Bundle.entry[0].resource"),
        ("warning", "unknown-profile", "Bundle.entry[1].resource.contained[0]"),
    ]
    assert from_profile(v.validate(pat("a", UNKNOWN)), UNKNOWN) == [
        ("warning", "unknown-profile", "Patient")
    ]


def test_unknown_profile_asked_for_is_an_error(v: FhirValidator) -> None:
    assert from_profile(v.validate(pat("a"), [UNKNOWN]), UNKNOWN) == [
        ("error", "unknown-profile", "Patient")
    ]


def test_profile_for_another_type(v: FhirValidator) -> None:
    basic = {
        "resourceType": "Basic",
        "id": "b",
        "code": {"text": "x"},
        "meta": {"profile": [DATED]},
    }
    got = from_profile(v.validate(bundle(basic)))
    assert got == [("error", "profile-type", "Bundle.entry[0].resource")]


def test_profile_asked_for_and_claimed_is_checked_once(v: FhirValidator) -> None:
    got = from_profile(v.validate(pat("a", DATED), [DATED]))
    assert got == [("error", "cardinality-min", "Patient.birthDate")]

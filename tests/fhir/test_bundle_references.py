"""References inside Bundles and Parameters, resolved per R4 §2.36.4 ("Resolving
references in Bundles") and §2.3.0 (references.html): fullUrl, RESTful base, URNs,
versions, contained resources; the resolved target's type checked."""

from __future__ import annotations

from typing import Any

import pytest
from fhir_helpers import errors

from conformance.fhir import FhirValidator

BASE_URL = "http://example.org/fhir"


def _obs(ref: str, **more: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "code": {"text": "weight"},
        "subject": {"reference": ref, **more},
    }


def _bundle(btype: str, *entries: tuple[str | None, dict[str, Any]]) -> dict[str, Any]:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": btype, "entry": []}
    for full, res in entries:
        entry: dict[str, Any] = {"resource": res}
        if full is not None:
            entry["fullUrl"] = full
        bundle["entry"].append(entry)
    return bundle


def _found(base: FhirValidator, resource: dict[str, Any]) -> list[tuple[str, str]]:
    return [(i.code, i.expression) for i in errors(base.validate(resource))]


PATIENT = {"resourceType": "Patient", "id": "p1"}
GROUP = {"resourceType": "Group", "id": "p1", "type": "person", "actual": True}
DEVICE = {"resourceType": "Device", "id": "p1"}
SUBJECT = "Bundle.entry[0].resource.subject"


@pytest.mark.parametrize(
    ("obs_url", "ref", "target_url"),
    [
        # relative Type/id against the RESTful base of the referring entry's fullUrl
        (f"{BASE_URL}/Observation/o1", "Patient/p1", f"{BASE_URL}/Patient/p1"),
        # absolute reference against fullUrl
        ("urn:uuid:9d6a4d1c-0000-4000-8000-000000000001", f"{BASE_URL}/Patient/p1", None),
        # URN against fullUrl only
        (
            "urn:uuid:9d6a4d1c-0000-4000-8000-000000000001",
            "urn:uuid:9d6a4d1c-0000-4000-8000-000000000002",
            "urn:uuid:9d6a4d1c-0000-4000-8000-000000000002",
        ),
        # versioned: the target's meta.versionId matches
        (f"{BASE_URL}/Observation/o1", "Patient/p1/_history/2", f"{BASE_URL}/Patient/p1"),
    ],
)
def test_resolved_reference_to_wrong_type_is_an_error(
    base: FhirValidator, obs_url: str, ref: str, target_url: str | None
) -> None:
    # Observation.subject allows Patient, Group, Device, Location: a Medication is not one
    target = {"resourceType": "Medication", "id": "p1", "meta": {"versionId": "2"}}
    url = target_url or ref
    bundle = _bundle("collection", (obs_url, _obs(ref)), (url, target))
    found = _found(base, bundle)
    assert ("reference-target", SUBJECT) in found
    if not ref.startswith("urn:"):  # the literal says Patient, the target is a Medication
        assert ("reference-type-mismatch", SUBJECT) in found


def test_resolved_reference_to_allowed_type_is_fine(base: FhirValidator) -> None:
    urn = "urn:uuid:9d6a4d1c-0000-4000-8000-000000000002"
    bundle = _bundle(
        "collection",
        ("urn:uuid:9d6a4d1c-0000-4000-8000-000000000001", _obs(urn)),
        (urn, GROUP),
    )
    assert _found(base, bundle) == []


def test_literal_type_must_match_the_target(base: FhirValidator) -> None:
    # a reference Patient/p1 that resolves to a Device (an allowed subject type) is wrong
    bundle = _bundle(
        "collection",
        (f"{BASE_URL}/Observation/o1", _obs("Patient/p1")),
        (f"{BASE_URL}/Patient/p1", DEVICE),
    )
    assert _found(base, bundle) == [("reference-type-mismatch", SUBJECT)]


def test_reference_type_element_must_match_the_target(base: FhirValidator) -> None:
    urn = "urn:uuid:9d6a4d1c-0000-4000-8000-000000000002"
    bundle = _bundle(
        "collection",
        ("urn:uuid:9d6a4d1c-0000-4000-8000-000000000001", _obs(urn, type="Patient")),
        (urn, DEVICE),
    )
    assert _found(base, bundle) == [("reference-type-mismatch", SUBJECT)]


def test_relative_reference_uses_the_referring_entrys_base(base: FhirValidator) -> None:
    # Patient/p1 from an entry on server A means A's Patient/p1, not server B's Medication
    bundle = _bundle(
        "collection",
        ("http://a.example.org/fhir/Observation/o1", _obs("Patient/p1")),
        ("http://b.example.org/fhir/Patient/p1", {"resourceType": "Medication", "id": "p1"}),
        ("http://a.example.org/fhir/Patient/p1", PATIENT),
    )
    assert _found(base, bundle) == []


def test_version_mismatch_does_not_resolve(base: FhirValidator) -> None:
    target = {"resourceType": "Medication", "id": "p1", "meta": {"versionId": "3"}}
    bundle = _bundle(
        "collection",
        (f"{BASE_URL}/Observation/o1", _obs("Patient/p1/_history/2")),
        (f"{BASE_URL}/Patient/p1", target),
    )
    assert _found(base, bundle) == []  # another version: not this entry, nothing judged


def test_urn_is_not_resolved_by_resource_id(base: FhirValidator) -> None:
    # a URN only matches a fullUrl, never Type/id
    bundle = _bundle(
        "document",
        ("urn:uuid:9d6a4d1c-0000-4000-8000-000000000001", _obs("urn:uuid:p1")),
        (None, PATIENT),
    )
    assert ("reference-not-found", SUBJECT) in _found(base, bundle)


def test_unresolved_references_only_matter_in_documents(base: FhirValidator) -> None:
    for btype in ("collection", "transaction", "searchset", "batch"):
        bundle = _bundle(btype, (f"{BASE_URL}/Observation/o1", _obs("Patient/elsewhere")))
        if btype in ("transaction", "batch"):
            bundle["entry"][0]["request"] = {"method": "POST", "url": "Observation"}
        if btype == "searchset":
            bundle["entry"][0]["search"] = {"mode": "match"}
        assert [c for c, _ in _found(base, bundle) if c.startswith("reference")] == [], btype
    document = _bundle("document", (f"{BASE_URL}/Observation/o1", _obs("Patient/elsewhere")))
    assert ("reference-not-found", SUBJECT) in _found(base, document)


def test_ambiguous_reference_in_a_message(base: FhirValidator) -> None:
    bundle = _bundle(
        "message",
        (f"{BASE_URL}/Observation/o1", _obs("Patient/p1")),
        (f"{BASE_URL}/Patient/p1", PATIENT),
        (f"{BASE_URL}/Patient/p1", PATIENT),
    )
    assert ("reference-ambiguous", SUBJECT) in _found(base, bundle)


def test_contained_reference_type(base: FhirValidator) -> None:
    obs = _obs("#m1")
    obs["contained"] = [{"resourceType": "Medication", "id": "m1"}]
    assert _found(base, obs) == [("reference-target", "Observation.subject")]
    obs["contained"] = [{"resourceType": "Group", "id": "m1", "type": "person", "actual": True}]
    assert _found(base, obs) == []


def test_hash_alone_is_the_container(base: FhirValidator) -> None:
    # a contained Medication whose reference '#' points back at its container
    med = {
        "resourceType": "Medication",
        "id": "m1",
        "ingredient": [{"itemReference": {"reference": "#"}}],
    }
    obs = _obs("Patient/p1")
    obs["contained"] = [med]
    obs["hasMember"] = [{"reference": "#m1"}]  # hasMember: Observation etc., not Medication
    found = _found(base, obs)
    # Medication.ingredient.item allows Substance or Medication: the Observation is neither
    assert ("reference-target", "Observation.contained[0].ingredient[0].itemReference") in found
    assert ("reference-target", "Observation.hasMember[0]") in found


def test_contained_in_a_bundle_entry(base: FhirValidator) -> None:
    obs = _obs("#m1")
    obs["contained"] = [{"resourceType": "Medication", "id": "m1"}]
    bundle = _bundle("collection", (f"{BASE_URL}/Observation/o1", obs))
    assert _found(base, bundle) == [("reference-target", SUBJECT)]


def test_nested_bundle_resolves_its_own_references(base: FhirValidator) -> None:
    inner = _bundle(
        "collection",
        (f"{BASE_URL}/Observation/o1", _obs("Patient/p1")),
        (f"{BASE_URL}/Patient/p1", DEVICE),
    )
    outer = _bundle("collection", (f"{BASE_URL}/Bundle/b1", inner))
    assert _found(base, outer) == [
        ("reference-type-mismatch", "Bundle.entry[0].resource.entry[0].resource.subject")
    ]


def test_parameters_references_resolve_among_parameters(base: FhirValidator) -> None:
    # Parameters have no fullUrl: Type/id finds the parameter resource of that type and id
    # (here a Device, while the Reference's own type says Patient)
    params = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "obs", "resource": _obs("Device/p1", type="Patient")},
            {"name": "who", "part": [{"name": "x", "resource": DEVICE}]},
        ],
    }
    assert _found(base, params) == [
        ("reference-type-mismatch", "Parameters.parameter[0].resource.subject")
    ]
    params["parameter"][1]["part"][0]["resource"] = PATIENT  # Device/p1 not there: fine
    assert _found(base, params) == []


def test_references_in_extensions_resolve(base: FhirValidator) -> None:
    # extensions of the resource and of its backbone elements and references are walked
    obs = _obs("Patient/p1")
    obs["extension"] = [
        {"url": "http://example.org/ext", "valueReference": {"reference": "Patient/p1"}}
    ]
    bundle = _bundle(
        "collection",
        (f"{BASE_URL}/Observation/o1", obs),
        (f"{BASE_URL}/Patient/p1", DEVICE),
    )
    found = _found(base.allowing_example_urls(), bundle)
    assert ("reference-type-mismatch", "Bundle.entry[0].resource.extension[0].valueReference") in (
        found
    )


# ---------------------------------------------------------------- profiles' targetProfile

P = "http://example.org/fhir/StructureDefinition/"


def _sd(name: str, type_: str, elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "StructureDefinition",
        "url": P + name,
        "name": name,
        "status": "active",
        "kind": "resource",
        "abstract": False,
        "type": type_,
        "baseDefinition": f"http://hl7.org/fhir/StructureDefinition/{type_}",
        "derivation": "constraint",
        "differential": {"element": elements},
    }


NAMED_PATIENT = _sd(
    "named-patient", "Patient", [{"id": "Patient.name", "path": "Patient.name", "min": 1}]
)
STRICT_OBS = _sd(
    "strict-obs",
    "Observation",
    [
        {
            "id": "Observation.subject",
            "path": "Observation.subject",
            "type": [
                {
                    "code": "Reference",
                    "targetProfile": [
                        P + "named-patient",
                        "http://hl7.org/fhir/StructureDefinition/Group",
                    ],
                }
            ],
        }
    ],
)


@pytest.fixture(scope="module")
def profiled() -> FhirValidator:
    from conformance.fhir import DefinitionSet

    return FhirValidator.base().with_definitions(DefinitionSet([NAMED_PATIENT, STRICT_OBS]))


def _profiled_bundle(target: dict[str, Any]) -> dict[str, Any]:
    urn = "urn:uuid:9d6a4d1c-0000-4000-8000-000000000002"
    obs = _obs(urn)
    obs["meta"] = {"profile": [P + "strict-obs"]}
    return _bundle(
        "collection", ("urn:uuid:9d6a4d1c-0000-4000-8000-000000000001", obs), (urn, target)
    )


def test_target_must_conform_to_the_target_profile(profiled: FhirValidator) -> None:
    found = [
        (i.code, i.expression, i.source)
        for i in errors(profiled.validate(_profiled_bundle(dict(PATIENT))))
    ]
    assert found == [("reference-target", SUBJECT, P + "strict-obs")]
    named = {**PATIENT, "name": [{"family": "Test"}]}
    assert errors(profiled.validate(_profiled_bundle(named))) == []


def test_target_type_must_be_one_the_profile_allows(profiled: FhirValidator) -> None:
    # Device is an allowed subject in base R4, but not by this profile; a Group is (core)
    found = [
        (i.code, i.expression, i.source)
        for i in errors(profiled.validate(_profiled_bundle(dict(DEVICE))))
    ]
    assert found == [("reference-target", SUBJECT, P + "strict-obs")]
    assert errors(profiled.validate(_profiled_bundle(dict(GROUP)))) == []


def test_profile_given_by_the_caller_applies_to_contained_targets(
    profiled: FhirValidator,
) -> None:
    obs = _obs("#p")
    obs["contained"] = [{"resourceType": "Patient", "id": "p"}]
    found = [(i.code, i.expression) for i in errors(profiled.validate(obs, [P + "strict-obs"]))]
    assert ("reference-target", "Observation.subject") in found
    assert errors(profiled.validate(obs)) == []  # no profile: base R4 allows a Patient


def test_references_below_backbones_and_datatypes_resolve(base: FhirValidator) -> None:
    # Encounter.participant.individual (a backbone) and Identifier.assigner (a datatype)
    urn = "urn:uuid:9d6a4d1c-0000-4000-8000-000000000002"
    enc = {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "participant": [{"individual": {"reference": urn}}],
        "identifier": [{"value": "1", "assigner": {"reference": urn}}],
    }
    bundle = _bundle(
        "collection", ("urn:uuid:9d6a4d1c-0000-4000-8000-000000000001", enc), (urn, DEVICE)
    )
    at = "Bundle.entry[0].resource"
    assert sorted(_found(base, bundle)) == [
        ("reference-target", f"{at}.identifier[0].assigner"),
        ("reference-target", f"{at}.participant[0].individual"),
    ]


def test_relative_reference_does_not_cross_servers(base: FhirValidator) -> None:
    # R4 §2.36.4: Patient/p1 made in an entry of server A is A's Patient/p1; server B's
    # entry of the same type and id is another resource: in a document, not found
    bundle = _bundle(
        "document",
        ("http://a.example.org/fhir/Observation/o1", _obs("Patient/p1")),
        ("http://b.example.org/fhir/Patient/p1", PATIENT),
    )
    assert ("reference-not-found", SUBJECT) in _found(base, bundle)
    # from an entry whose fullUrl is not RESTful, Type/id finds the entry of that type and id
    bundle["entry"][0]["fullUrl"] = "urn:uuid:9d6a4d1c-0000-4000-8000-000000000001"
    assert ("reference-not-found", SUBJECT) not in _found(base, bundle)

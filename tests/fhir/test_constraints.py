"""Profile constraints implemented in Python (ConstraintImplementation), and the NHS one."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from conformance.fhir import DefinitionSet, FhirValidator
from conformance.fhir.invariants import ConstraintImplementation
from conformance.nhs.constraints import NHS_CONSTRAINTS, NHS_NUMBER_OR_REASON
from conformance.samples import iter_resources

STANDARD = Path(__file__).resolve().parents[2] / "standards" / "mdss" / "1.0.0"
URL = "http://example.org/StructureDefinition/nhs-patient"
NHS = "https://fhir.nhs.uk/Id/nhs-number"
REASON = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberUnavailableReason"


def _profile(key: str, expression: str) -> dict[str, Any]:
    return {
        "resourceType": "StructureDefinition",
        "url": URL,
        "name": "NhsPatient",
        "status": "draft",
        "kind": "resource",
        "abstract": False,
        "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "derivation": "constraint",
        "differential": {
            "element": [
                {
                    "id": "Patient",
                    "path": "Patient",
                    "constraint": [
                        {"key": key, "severity": "error", "human": "h", "expression": expression}
                    ],
                }
            ]
        },
    }


@pytest.mark.parametrize(
    ("patient", "holds"),
    [
        ({"identifier": [{"system": NHS, "value": "9000000009"}]}, True),
        ({"identifier": [{"system": "urn:x", "value": "1"}]}, False),
        ({"extension": [{"url": REASON, "valueCodeableConcept": {"text": "x"}}]}, True),
        ({}, False),
    ],
)
def test_nhs_number_or_reason(patient: dict[str, Any], holds: bool) -> None:
    patient = {"resourceType": "Patient", **patient}
    assert NHS_NUMBER_OR_REASON.check(patient, patient, patient) is holds
    # and the implementation answers as the FHIRPath it stands for
    v = FhirValidator.base().with_definitions(
        DefinitionSet([_profile("mdss-pat-1", NHS_NUMBER_OR_REASON.expression)])
    )
    failed = [i.key for i in v.validate(patient, [URL]) if i.code == "invariant"]
    assert ("mdss-pat-1" in failed) is not holds


def test_an_implementation_replaces_only_its_key_and_expression() -> None:
    calls: list[str] = []

    def counted(focus: Any, resource: Any, root: Any) -> bool:
        calls.append("native")
        return True

    impl = ConstraintImplementation("x-1", "name.exists()", counted, "a test")
    patient = {"resourceType": "Patient", "gender": "male"}
    same = FhirValidator.base().with_definitions(
        DefinitionSet([_profile("x-1", "name.exists()")]), {"x-1": impl}
    )
    assert [i.key for i in same.validate(patient, [URL]) if i.source == URL] == []
    assert calls == ["native"]
    worded = FhirValidator.base().with_definitions(
        DefinitionSet([_profile("x-1", "name.exists() and true")]), {"x-1": impl}
    )
    assert [i.key for i in worded.validate(patient, [URL]) if i.source == URL] == ["x-1"]
    assert calls == ["native"]  # a differently worded rule went through FHIRPath


def test_the_standard_checks_use_the_nhs_implementation() -> None:
    defs = DefinitionSet.load([STANDARD / "profiles", STANDARD / "terminology"])
    v = FhirValidator.base().with_definitions(defs, NHS_CONSTRAINTS)
    assert v.implementations == NHS_CONSTRAINTS
    patient = copy.deepcopy(
        next(r for r in iter_resources(patients=1, seed=1) if r["resourceType"] == "Patient")
    )
    url = "https://w3id.org/mdss/StructureDefinition/MDSS-Patient"
    assert v.validate(patient, [url]) == FhirValidator.base().with_definitions(defs).validate(
        patient, [url]
    )
    patient["identifier"] = [i for i in patient["identifier"] if i.get("system") != NHS]
    patient["extension"] = [e for e in patient.get("extension", ()) if e["url"] != REASON]
    assert "mdss-pat-1" in {i.key for i in v.validate(patient, [url])}

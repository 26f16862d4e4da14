"""benchmarks/hl7_suite.py: the error-message agreement (same element path, same kind)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

from tests.conftest import REPO


def _suite() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hl7_suite", REPO / "benchmarks" / "hl7_suite.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_paths_are_normalised_alike() -> None:
    norm = _suite().normalise_path
    assert norm("Observation.value.ofType(Quantity)") == "Observation.valueQuantity"
    assert norm("Bundle.entry[0].resource/*Composition/c1*/.section[0].entry[1]") == (
        "Bundle.entry.resource.section.entry"
    )
    assert norm("MedicationRequest.medication[x]") == "MedicationRequest.medication"
    assert norm("Patient.(unknown element)") == "Patient"
    assert norm("Patient.birthDate.extension[0].url") == "Patient.birthDate.extension"


def test_kinds_of_the_reference_s_messages() -> None:
    kind = _suite().their_kind
    assert kind("structure", "Patient.identifier: minimum required = 1, but only found 0") == (
        "cardinality"
    )
    assert kind("invalid", "Not a valid date format: 'x'") == "type"
    assert kind("code-invalid", "None of the codings provided are in the value set") == "code"
    assert kind("invariant", "Constraint failed: ref-1: 'SHALL have a contained resource'") == (
        "invariant"
    )
    assert kind("structure", "The extension http://x/y could not be found") == "extension"
    assert kind("invalid", "Can't find 'Observation/1' in the bundle") == "reference"
    assert kind("structure", "Unrecognized property 'fhir_comments'") == "structure"


def test_agreement_counts_reference_errors_matched_by_path_and_kind(tmp_path: Path) -> None:
    suite = _suite()
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "structure",
                "expression": ["Patient"],
                "details": {"text": "Patient.identifier: minimum required = 1, but only found 0"},
            },
            {
                "severity": "error",
                "code": "invalid",
                "expression": ["Patient.birthDate"],
                "details": {"text": "Not a valid date format"},
            },
            {"severity": "warning", "code": "invalid", "expression": ["Patient"], "details": {}},
        ],
    }
    path = tmp_path / "outcome.json"
    path.write_text(json.dumps(outcome))
    theirs = suite.reference_errors(path)
    assert theirs == [("Patient.identifier", "cardinality"), ("Patient.birthDate", "type")]
    ours = [("Patient.identifier", "cardinality"), ("Patient.gender", "code")]
    assert suite.same_error(theirs, ours) == 1
    assert suite.same_error(theirs, [("Patient.identifier", "type")]) == 0  # wrong kind

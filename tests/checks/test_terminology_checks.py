"""MDSS-TERM-*: SNOMED CT ids, bindings, clinical coding, dm+d."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.checks.base import CompileEnv
from conformance.checks.registry import check_factories
from conformance.checks.structure import fhir_validator
from conformance.nhs.snomed import verhoeff_check_digit
from conformance.plugin.manager import build_plugins
from tests.checks.helpers import (
    SCT,
    assert_merge_exact,
    compile_check,
    condition,
    context,
    encounter,
    mdss,
    medication_request,
    observation,
    ratio,
    records,
    run,
)


def test_term01_valid_codes_pass(tmp_path: Path) -> None:
    card = run(tmp_path, [condition(), observation(), encounter()], "MDSS-TERM-01")
    assert card["req"]["status"] == "pass" and ratio(card) == (3, 3)


@pytest.mark.parametrize(
    ("code", "finding"),
    [
        ("195967002", "snomed-bad-check-digit"),  # Verhoeff digit wrong
        ("19596701" + verhoeff_check_digit("19596701"), "snomed-bad-partition"),  # a description
        ("19596", "snomed-bad-length"),
        ("asthma", "snomed-not-digits"),
    ],
)
def test_term01_invalid(tmp_path: Path, code: str, finding: str) -> None:
    bad = condition("c2", code={"coding": [{"system": SCT, "code": code}]})
    card = run(tmp_path, [condition(), bad], "MDSS-TERM-01")
    assert card["found"] == [(finding, "Condition.ndjson", 2, "Condition.code.coding[0].code")]
    assert ratio(card) == (1, 2)


def test_term01_codings_anywhere(tmp_path: Path) -> None:
    nested = encounter(
        reasonCode=[
            {"coding": [{"system": "http://loinc.org", "code": "x"}]},
            {"coding": [{"system": SCT, "code": "267036008"}]},
        ]
    )
    card = run(tmp_path, [nested], "MDSS-TERM-01")
    assert card["found"] == [
        ("snomed-bad-check-digit", "Encounter.ndjson", 1, "Encounter.reasonCode[1].coding[0].code")
    ]


def test_term02_required_binding(tmp_path: Path) -> None:
    bad = condition("c2")
    bad["clinicalStatus"]["coding"][0]["code"] = "current"
    card = run(tmp_path, [condition(), bad], "MDSS-TERM-02")
    assert card["found"] == [
        ("binding-required", "Condition.ndjson", 2, "Condition.clinicalStatus")
    ]
    assert ratio(card) == (1, 2)
    assert card["findings"][0]["severity"] == "error"


def test_term03_extensible_binding(tmp_path: Path) -> None:
    local = [{"coding": [{"system": "urn:x-local:condition-category", "code": "DX"}]}]
    with_text = [{**local[0], "text": "Diagnosis"}]
    card = run(
        tmp_path,
        [condition(), condition("c2", category=local), condition("c3", category=with_text)],
        "MDSS-TERM-03",
    )
    assert card["found"] == [("binding-extensible", "Condition.ndjson", 2, "Condition.category[0]")]
    assert ratio(card) == (2, 3)
    assert card["findings"][0]["severity"] == "warning"


class _Counting:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def validate(self, resource: dict[str, Any], profiles: tuple[str, ...] = ()) -> list[Any]:
        self.calls += 1
        result: list[Any] = self.inner.validate(resource, profiles)
        return result


def test_one_validation_per_record_for_str_and_term() -> None:
    standard = mdss()
    env = CompileEnv(standard)
    factories = check_factories(build_plugins())
    checks = [
        factories[req.check.type](req, req.check.params, env)
        for req in standard.requirements
        if req.id in ("MDSS-STR-02", "MDSS-TERM-02", "MDSS-TERM-03")
    ]
    shared = fhir_validator(env)
    counting = _Counting(shared.validator)
    shared.validator = counting
    bad = condition()
    bad["clinicalStatus"]["coding"][0]["code"] = "current"
    found: list[str] = []
    for record in records([condition(), bad]):
        for check in checks:
            state = check.start(context())
            check.visit(state, record, lambda p, *a: found.append(p.code))
    assert counting.calls == 2  # once per record, not once per check
    assert found.count("binding-required") == 2  # STR-02 and TERM-02 both report it


def test_term04_clinical_coding(tmp_path: Path) -> None:
    text_only = condition("c2", code={"text": "asthma"})
    local = observation("o2", code={"coding": [{"system": "urn:x-local", "code": "HR"}]})
    loinc = observation("o3", code={"coding": [{"system": "http://loinc.org", "code": "8867-4"}]})
    reason = encounter(reasonCode=[{"text": "fell over"}])
    card = run(tmp_path, [condition(), text_only, local, loinc, reason], "MDSS-TERM-04")
    assert sorted(card["found"]) == [
        ("clinical-code-not-snomed", "Observation.ndjson", 1, "Observation.code"),
        ("clinical-code-text-only", "Condition.ndjson", 2, "Condition.code"),
        ("clinical-code-text-only", "Encounter.ndjson", 1, "Encounter.reasonCode[0]"),
    ]
    assert ratio(card) == (2, 5)
    good = run(tmp_path / "g", [condition(), loinc, encounter()], "MDSS-TERM-04")
    assert good["req"]["status"] == "pass"
    # Free text never reaches the findings.
    assert "asthma" not in str(card["findings"]) and "fell over" not in str(card["findings"])


def test_term05_dmd(tmp_path: Path) -> None:
    text_only = medication_request("m2", medicationCodeableConcept={"text": "amoxicillin"})
    local = medication_request(
        "m3", medicationCodeableConcept={"coding": [{"system": "urn:x-local", "code": "F1"}]}
    )
    card = run(tmp_path, [medication_request(), text_only, local], "MDSS-TERM-05")
    assert card["found"] == [
        (
            "medication-text-only",
            "MedicationRequest.ndjson",
            2,
            "MedicationRequest.medicationCodeableConcept",
        ),
        (
            "medication-not-dmd",
            "MedicationRequest.ndjson",
            3,
            "MedicationRequest.medicationCodeableConcept",
        ),
    ]
    assert ratio(card) == (1, 3)


def _medication(rid: str, system: str) -> dict[str, Any]:
    return {
        "resourceType": "Medication",
        "id": rid,
        "code": {"coding": [{"system": system, "code": "22608811000001102"}]},
    }


def test_term05_referenced_medication(tmp_path: Path) -> None:
    ref = {"reference": "Medication/dmd"}
    feed = [
        medication_request("m1", medicationCodeableConcept=None, medicationReference=ref),
        medication_request(
            "m2", medicationCodeableConcept=None, medicationReference={"reference": "Medication/x"}
        ),
        medication_request(
            "m3",
            medicationCodeableConcept=None,
            medicationReference={"reference": "#med"},
            contained=[{**_medication("med", "https://dmd.nhs.uk")}],
        ),
        _medication("dmd", "https://dmd.nhs.uk"),
        _medication("x", "urn:x-local"),
    ]
    card = run(tmp_path, feed, "MDSS-TERM-05")
    assert card["found"] == [
        (
            "medication-not-dmd",
            "MedicationRequest.ndjson",
            2,
            "MedicationRequest.medicationReference",
        )
    ]
    assert ratio(card) == (2, 3)
    assert_merge_exact(compile_check("MDSS-TERM-05"), feed, context())

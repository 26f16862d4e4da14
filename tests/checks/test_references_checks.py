"""MDSS-REF-*: references resolve, subjects are patients, findings link to encounters."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.checks.references import (
    absolute_target,
    expression,
    is_patient_reference,
    reference_target,
    scan,
)
from tests.checks.helpers import (
    assert_merge_exact,
    compile_check,
    condition,
    context,
    encounter,
    location,
    observation,
    organization,
    patient,
    ratio,
    run,
)


def _feed() -> list[dict[str, object]]:
    return [
        patient(),
        encounter(),
        observation(),
        condition(),
        organization("gp", "B86022"),
        organization("trust", "RXX"),
        location("site-1", "RXX01"),
    ]


def test_ref01_all_resolve_whatever_the_order(tmp_path: Path) -> None:
    card = run(tmp_path, list(reversed(_feed())), "MDSS-REF-01")
    assert card["req"]["status"] == "pass"
    # patient's GP; encounter: subject, location, provider; observation, condition: 2 each
    assert ratio(card) == (8, 8)


def test_ref01_unresolved(tmp_path: Path) -> None:
    broken = observation("o2", encounter={"reference": "Encounter/missing"})
    card = run(tmp_path, [*_feed(), broken], "MDSS-REF-01")
    assert card["found"] == [
        ("reference-unresolved", "Observation.ndjson", 2, "Observation.encounter.reference")
    ]
    assert ratio(card) == (9, 10)


def test_ref01_contained_absolute_and_logical(tmp_path: Path) -> None:
    contained = observation(
        "o2",
        contained=[{"resourceType": "Practitioner", "id": "pr"}],
        performer=[{"reference": "#pr"}, {"reference": "#nope"}],
        encounter={"reference": "https://example.org/fhir/Encounter/enc-1"},
        subject={
            "identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990000018"}
        },
    )
    card = run(tmp_path, [*_feed(), contained], "MDSS-REF-01")
    assert sorted(card["found"]) == [
        ("reference-identifier-only", "Observation.ndjson", 2, "Observation.subject"),
        ("reference-not-checked", "Observation.ndjson", 2, "Observation.encounter.reference"),
        ("reference-unresolved", "Observation.ndjson", 2, "Observation.performer[1].reference"),
    ]
    severities = sorted(f["severity"] for f in card["findings"])
    assert severities == ["error", "information", "information"]
    assert ratio(card) == (9, 10)  # the two contained ones counted, the other two not
    assert "9990000018" not in str(card["findings"])


def test_ref01_merge_exact() -> None:
    feed = [
        observation("o1", encounter={"reference": "Encounter/enc-1"}),
        observation("o2", encounter={"reference": "Encounter/gone"}),
        encounter(),
        patient(),
        condition(encounter={"reference": "Encounter/gone"}),
        organization("trust", "RXX"),
    ]
    assert_merge_exact(compile_check("MDSS-REF-01"), feed, context())


@pytest.mark.parametrize(
    ("ref", "target"),
    [
        ("Patient/1", "Patient/1"),
        ("Patient/1/_history/2", "Patient/1"),
        ("patient/1", None),
        ("Patient?identifier=x", None),
        ("urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0", None),
    ],
)
def test_reference_target(ref: str, target: str | None) -> None:
    assert reference_target(ref) == target


def test_absolute_target() -> None:
    assert absolute_target("https://x.org/fhir/Patient/1/_history/3") == "Patient/1"
    assert absolute_target("https://x.org/fhir/metadata") is None


def test_scan_expressions_in_document_order() -> None:
    found = scan(encounter())
    assert [expression(n) for n in found.references] == [
        "Encounter.subject",
        "Encounter.location[0].location",
        "Encounter.serviceProvider",
    ]
    assert [expression(n) for n in found.periods] == ["Encounter.period"]
    assert [expression(n) for n in found.snomed] == [
        "Encounter.type[0].coding[0]",
        "Encounter.reasonCode[0].coding[0]",
    ]


def test_ref02_subject(tmp_path: Path) -> None:
    group = observation("o2", subject={"reference": "Group/g1"})
    missing = condition(subject=None)
    card = run(tmp_path, [observation(), group, missing, encounter()], "MDSS-REF-02")
    assert sorted(card["found"]) == [
        ("subject-missing", "Condition.ndjson", 1, "Condition.subject"),
        ("subject-not-patient", "Observation.ndjson", 2, "Observation.subject"),
    ]
    assert ratio(card) == (2, 4)
    good = run(tmp_path / "g", [observation(), encounter(), condition()], "MDSS-REF-02")
    assert good["req"]["status"] == "pass"


def test_is_patient_reference() -> None:
    assert is_patient_reference({"reference": "Patient/1"}) is True
    assert is_patient_reference({"reference": "https://x.org/fhir/Patient/1"}) is True
    assert is_patient_reference({"reference": "Group/1"}) is False
    assert is_patient_reference(
        {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "1"}}
    )
    assert is_patient_reference({"display": "someone"}) is None
    assert is_patient_reference(None) is None


def test_ref03_encounter_link(tmp_path: Path) -> None:
    card = run(
        tmp_path,
        [observation(), observation("o2", encounter=None), condition(), condition("c2")],
        "MDSS-REF-03",
    )
    assert card["found"] == [
        ("encounter-link-missing", "Observation.ndjson", 2, "Observation.encounter")
    ]
    assert ratio(card) == (3, 4)
    assert card["req"]["status"] == "partial"  # 0.75 < threshold 0.8
    good = run(tmp_path / "g", [observation(), condition()], "MDSS-REF-03")
    assert good["req"]["status"] == "pass"

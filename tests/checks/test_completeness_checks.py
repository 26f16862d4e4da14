"""MDSS-COMP-*: DQMI dataset completeness and must-support elements."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.checks.completeness import compile_leaves, compile_path, item_status
from tests.checks.helpers import (
    assert_merge_exact,
    compile_check,
    condition,
    context,
    encounter,
    observation,
    patient,
    ratio,
    run,
)

ETHNIC = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"


def test_path_syntax() -> None:
    steps = compile_path(f"extension({ETHNIC}).valueCodeableConcept.coding.code")
    assert steps[0] == ("extension", False, "url", ETHNIC)
    assert compile_leaves(steps)(patient()) == ["A"]
    assert compile_path("telecom(system=phone).value")[0] == ("telecom", False, "system", "phone")
    assert compile_leaves(compile_path("telecom(system=email).value"))(patient()) == []
    assert compile_leaves(compile_path("effective[x]"))(observation()) == ["2026-11-19T11:21:00Z"]
    assert compile_leaves(compile_path("value[x].unit"))(observation()) == ["/min"]
    for bad in ("a..b", "a(b", "a)b", "x()", "a-b"):
        with pytest.raises(ValueError):
            compile_path(bad)


def test_item_status_defaults() -> None:
    gender = compile_leaves(compile_path("gender"))
    assert item_status(patient(), gender, frozenset({"unknown"})) == 1
    assert item_status(patient(gender="unknown"), gender, frozenset({"unknown"})) == 2
    assert item_status(patient(gender="  "), gender, frozenset()) == 0
    assert item_status(patient(gender=None), gender, frozenset()) == 0


def test_comp01_complete_feed_scores_100(tmp_path: Path) -> None:
    card = run(tmp_path, [patient(), encounter(), observation(), condition()], "MDSS-COMP-01")
    assert card["req"]["status"] == "pass"
    assert ratio(card) == (10000, 10000)
    assert card["req"]["note"].startswith("dataset score 100.0 over 15 data items")


def test_comp01_blanked_patients_fail(tmp_path: Path) -> None:
    # 2 of 4 patients lose name, telecom, address, ethnic category and GP (5 of 7 items):
    # 5 items at 50, 2 at 100 -> 500/7 = 64.3 < 70. Encounters etc. absent: not scored.
    blank = {
        "name": None,
        "telecom": None,
        "address": None,
        "extension": None,
        "generalPractitioner": None,
    }
    feed = [patient("p1"), patient("p2"), patient("p3", **blank), patient("p4", **blank)]
    card = run(tmp_path, feed, "MDSS-COMP-01")
    assert ratio(card) == (6429, 10000)
    assert card["req"]["status"] == "partial"
    assert "over 7 data items" in card["req"]["note"]
    assert ("data-item-missing", "Patient.ndjson", 3, "Patient.name.family") in card["found"]
    assert len(card["found"]) == 10
    assert {f["severity"] for f in card["findings"]} == {"warning"}


def test_comp01_defaults_in_excess(tmp_path: Path) -> None:
    # gender 'unknown' is a default with a 1 % threshold: 1 of 4 is 0.96 in excess.
    feed = [patient("p1"), patient("p2"), patient("p3"), patient("p4", gender="unknown")]
    card = run(tmp_path, feed, "MDSS-COMP-01")
    assert card["found"] == []
    assert "patient-gender 76.0" in card["req"]["note"]


def test_comp01_merge_exact() -> None:
    feed = [
        patient("p1"),
        patient("p2", gender="unknown", telecom=None),
        encounter(location=None),
        observation(effectiveDateTime=None),
        condition(),
    ]
    assert_merge_exact(compile_check("MDSS-COMP-01"), feed, context())


def test_comp02_must_support(tmp_path: Path) -> None:
    card = run(
        tmp_path,
        [encounter(), encounter("e2", type=None, reasonCode=[])],
        "MDSS-COMP-02",
    )
    assert sorted(card["found"]) == [
        ("must-support-missing", "Encounter.ndjson", 2, "Encounter.reasonCode"),
        ("must-support-missing", "Encounter.ndjson", 2, "Encounter.type"),
    ]
    assert ratio(card) == (14, 16)
    assert card["req"]["status"] == "partial"  # 0.875 < 0.9
    good = run(tmp_path / "g", [patient(), encounter(), observation(), condition()], "MDSS-COMP-02")
    assert good["req"]["status"] == "pass"

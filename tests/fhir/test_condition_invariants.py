"""The Condition invariants (con-3, con-4, con-5), from their FHIRPath, on every combination
of usual and unusual shapes: the expected verdicts, and never a crash."""

from __future__ import annotations

import itertools
from typing import Any

from conformance.fhir import FhirValidator

CLIN = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ABSENT = object()


def _concept(system: str, *codes: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": c} for c in codes]}


CLINICAL: list[Any] = [
    ABSENT,
    None,
    {},
    {"text": "x"},
    _concept(CLIN, "active"),
    _concept(CLIN, "resolved"),
    _concept(CLIN, "remission", "x"),
    _concept("urn:other", "inactive"),
    {"coding": [{"code": "inactive"}]},
    {"coding": []},
    {"coding": [{}]},
    {"coding": [{"system": CLIN, "code": 3}]},
    {"coding": {"system": CLIN}},
    {"coding": [{"system": CLIN, "_code": {"extension": []}}]},
    "active",
]
VERIFICATION: list[Any] = [
    ABSENT,
    None,
    _concept(VER, "confirmed"),
    _concept(VER, "entered-in-error"),
    _concept("urn:x", "entered-in-error"),
    {"text": "y"},
    {"coding": [{"system": VER}]},
]
CATEGORY: list[Any] = [
    ABSENT,
    [],
    [{"coding": [{"system": "urn:x", "code": "problem-list-item"}]}],
    ["problem-list-item"],
]
ABATEMENT: list[tuple[str, Any]] = [
    ("", None),
    ("abatementDateTime", "2024-01-01"),
    ("abatementString", "x"),
    ("abatementAge", {"value": 3}),
    ("_abatementString", {"extension": []}),
    ("abatementFoo", 1),
    ("abatementDateTime", None),
]


def _conditions() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for clin, ver, cat, (ab_key, ab_value) in itertools.product(
        CLINICAL, VERIFICATION, CATEGORY, ABATEMENT
    ):
        cond: dict[str, Any] = {"resourceType": "Condition", "subject": {"reference": "P/1"}}
        for key, value in (
            ("clinicalStatus", clin),
            ("verificationStatus", ver),
            ("category", cat),
        ):
            if value is not ABSENT:
                cond[key] = value
        if ab_key:
            cond[ab_key] = ab_value
        out.append(cond)
    return out


def test_condition_invariants_on_odd_shapes_never_crash() -> None:
    v = FhirValidator.base()
    failed: set[str] = set()
    for cond in _conditions():
        for issue in v.validate(cond):
            if issue.code == "invariant":
                failed.add(issue.key)
    assert {"con-4", "con-5"} <= failed  # the corpus does break them


def test_condition_invariant_issues() -> None:
    v = FhirValidator.base()
    cond = {
        "resourceType": "Condition",
        "subject": {"reference": "Patient/1"},
        "code": {"text": "x"},
        "abatementString": "gone",
        "clinicalStatus": _concept(CLIN, "active"),
        "verificationStatus": _concept(VER, "entered-in-error"),
    }
    keys = sorted(i.key for i in v.validate(cond) if i.code == "invariant")
    # con-4: abated but active; con-5: in error yet a clinical status
    assert keys == ["con-4", "con-5", "dom-6"]
    cond["clinicalStatus"] = _concept(CLIN, "resolved")
    del cond["verificationStatus"]
    assert sorted(i.key for i in v.validate(cond) if i.code == "invariant") == ["dom-6"]
    cond["category"] = [{"coding": [{"code": "problem-list-item"}]}]
    del cond["clinicalStatus"]
    del cond["abatementString"]
    # con-3 (a warning): a problem-list item needs a clinical status
    assert [(i.key, i.severity) for i in v.validate(cond) if i.key == "con-3"] == [
        ("con-3", "warning")
    ]

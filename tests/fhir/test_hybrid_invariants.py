"""Base invariants answered natively for usual shapes (``HYBRID_INVARIANTS``) agree with
their FHIRPath expression on every combination of usual and unusual shapes."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from conformance.fhir import FhirValidator
from conformance.fhir.data import core_data
from conformance.fhir.invariants import compile_fhirpath
from conformance.fhir.native_invariants import HYBRID_INVARIANTS

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


@pytest.mark.parametrize("key", sorted(HYBRID_INVARIANTS))
def test_hybrid_invariant_agrees_with_fhirpath(key: str) -> None:
    expr = next(e for k, _, _, e in core_data()["invariants"] if k == key)
    by_fhirpath = compile_fhirpath(expr, "Condition")
    native = HYBRID_INVARIANTS[key]
    answered = 0
    outcomes: set[bool] = set()
    for cond in _conditions():
        expected = by_fhirpath(cond, cond, cond) != [False]
        got = native(cond, cond, cond)
        if got is not None:
            answered += 1
            assert got is expected, (key, cond)
        outcomes.add(expected)
    assert answered > 100  # the native path does answer the usual shapes
    assert outcomes == {True, False}  # and the corpus exercises both verdicts


def test_condition_invariant_issues_unchanged() -> None:
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
    assert keys == ["con-4", "con-5", "dom-6"]

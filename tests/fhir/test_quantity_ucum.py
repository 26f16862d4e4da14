"""Quantities in profiles compared with UCUM unit conversion.

R4 ElementDefinition.minValue[x] / maxValue[x] (Quantity: "the value must be >= / <= the
given value"), fixed[x] and pattern[x] on a Quantity, and slices told apart by Quantity
values. Quantities whose system is http://unitsofmeasure.org on both sides compare
through UCUM (exact definitions: 1 kg = 1000 g, 1 [lb_av] = 453.59237 g,
1 [in_i] = 2.54 cm, Cel and [degF] scales, 1 mm[Hg] = 133.322 Pa); units of different
kinds are not comparable (an error saying so); a code that is not valid UCUM is an error
at the code.
"""

from __future__ import annotations

from typing import Any

import pytest
from fhir_helpers import profile

from conformance.fhir import DefinitionSet, FhirIssue, FhirValidator
from conformance.fhir.values import (
    INCOMPARABLE,
    INVALID_UNIT,
    UNKNOWN,
    quantity_comparison,
    quantity_match,
)

UCUM = "http://unitsofmeasure.org"


def q(value: Any, code: str | None, system: str | None = UCUM) -> dict[str, Any]:
    out: dict[str, Any] = {"value": value}
    if code is not None:
        out["code"] = code
        out["unit"] = code
    if system is not None:
        out["system"] = system
    return out


def limited(**limits: dict[str, Any]) -> dict[str, Any]:
    return profile(
        "limited",
        "Observation",
        [
            {"id": "Observation.value[x]", "type": [{"code": "Quantity"}]},
            {"id": "Observation.valueQuantity", **limits},
        ],
    )


def issues_of(prof: dict[str, Any], value: dict[str, Any]) -> list[FhirIssue]:
    v = FhirValidator.base().with_definitions(DefinitionSet([prof]))
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"}}
    obs["valueQuantity"] = value
    return [i for i in v.validate(obs, [prof["url"]]) if i.source != "base"]


def found(issues: list[FhirIssue]) -> set[tuple[str, str, str]]:
    return {(i.severity, i.code, i.expression) for i in issues}


AT = "Observation.valueQuantity"


@pytest.mark.parametrize(
    ("kind", "limit", "value", "outside"),
    [
        ("min", q(0, "kg"), q(-1, "kg"), True),
        ("min", q(0, "kg"), q(0, "kg"), False),
        ("min", q(1, "kg"), q(999, "g"), True),
        ("min", q(1, "kg"), q(1000, "g"), False),
        ("min", q(1, "kg"), q(2.2, "[lb_av]"), True),  # 997.9 g
        ("min", q(1, "kg"), q(2.21, "[lb_av]"), False),  # 1002.4 g
        ("min", q(1, "L"), q(999, "mL"), True),
        ("min", q(1, "L"), q(1, "dm3"), False),
        ("min", q(1, "h"), q(3599, "s"), True),
        ("min", q(1, "h"), q(60, "min"), False),
        ("min", q(36, "Cel"), q(96.7, "[degF]"), True),  # 35.94 Cel
        ("min", q(36, "Cel"), q(96.8, "[degF]"), False),  # exactly 36 Cel
        ("min", q(36, "Cel"), q(309.15, "K"), False),
        ("min", q(36, "Cel"), q(309.14, "K"), True),
        ("min", q(1, "m"), q(39, "[in_i]"), True),  # 0.9906 m
        ("min", q(60, "/min"), q(59, "{beats}/min"), True),  # annotations carry no meaning
        ("max", q(200, "mm[Hg]"), q(26, "kPa"), False),  # 195.0 mm[Hg]
        ("max", q(200, "mm[Hg]"), q(27, "kPa"), True),  # 202.5 mm[Hg]
        ("max", q(40, "Cel"), q(104, "[degF]"), False),  # exactly 40 Cel
        ("max", q(40, "Cel"), q(104.1, "[degF]"), True),
        ("max", q(2, "m"), q(78, "[in_i]"), False),  # 1.9812 m
        ("max", q(2, "m"), q(80, "[in_i]"), True),  # 2.032 m
        ("max", q(2, "m"), q(201, "cm"), True),
        ("max", q(5, "mg/dL"), q(50, "mg/L"), False),
        ("max", q(5, "mg/dL"), q(0.051, "g/L"), True),
    ],
)
def test_min_and_max_value_quantity_convert_ucum_units(
    kind: str, limit: dict[str, Any], value: dict[str, Any], outside: bool
) -> None:
    issues = issues_of(limited(**{f"{kind}ValueQuantity": limit}), value)
    expected = {("error", f"profile-{kind}-value", AT)}
    assert found(issues) == (expected if outside else set())


def test_units_of_different_kinds_are_not_comparable() -> None:
    issues = issues_of(limited(minValueQuantity=q(0, "kg")), q(5, "m"))
    assert found(issues) == {("error", "quantity-incomparable", AT)}
    assert "not comparable" in issues[0].message and "minimum" in issues[0].message
    # arbitrary units are valid UCUM but convert to nothing
    issues = issues_of(limited(maxValueQuantity=q(10, "[iU]")), q(5, "mg"))
    assert found(issues) == {("error", "quantity-incomparable", AT)}


def test_a_code_that_is_not_ucum_is_an_error_at_the_code() -> None:
    issues = issues_of(limited(minValueQuantity=q(0, "kg")), q(5, "kilogramz"))
    assert found(issues) == {("error", "ucum-invalid", AT + ".code")}
    assert "kilogramz" not in issues[0].message  # never a value from the resource


def test_units_in_no_common_system_cannot_be_checked() -> None:
    # another system: the same code compares, a different one cannot be compared
    prof = limited(minValueQuantity=q(0, "a", "urn:units"))
    assert issues_of(prof, q(1, "a", "urn:units")) == []
    assert found(issues_of(prof, q(-1, "a", "urn:units"))) == {("error", "profile-min-value", AT)}
    assert found(issues_of(prof, q(1, "b", "urn:units"))) == {
        ("warning", "quantity-incomparable", AT)
    }


def test_fixed_quantity_is_the_same_amount() -> None:
    prof = limited(fixedQuantity=q(1, "kg"))
    assert issues_of(prof, q(1, "kg")) == []
    assert issues_of(prof, q(1000, "g")) == []
    assert found(issues_of(prof, q(999, "g"))) == {("error", "profile-fixed-value", AT)}
    assert found(issues_of(prof, q(1, "m"))) == {("error", "quantity-incomparable", AT)}
    assert found(issues_of(prof, q(1, "kg", None))) == {("error", "profile-fixed-value", AT)}
    assert found(issues_of(prof, q(1000, "g") | {"comparator": "<"})) == {
        ("error", "profile-fixed-value", AT)
    }


def test_pattern_quantity() -> None:
    temp = limited(patternQuantity=q(37, "Cel"))
    assert issues_of(temp, q(98.6, "[degF]")) == []
    assert issues_of(temp, q(310.15, "K") | {"comparator": ">"}) == []  # more than the pattern
    assert found(issues_of(temp, q(99, "[degF]"))) == {("error", "profile-pattern", AT)}
    # a pattern naming the unit only: that unit (annotations aside), not a conversion
    unit = limited(patternQuantity={"system": UCUM, "code": "mm[Hg]"})
    assert issues_of(unit, q(120, "mm[Hg]")) == []
    assert issues_of(unit, q(120, "mm[Hg]{mean}")) == []
    assert found(issues_of(unit, q(16, "kPa"))) == {("error", "profile-pattern", AT)}


def test_slices_told_apart_by_quantity_values() -> None:
    prof = profile(
        "qslices",
        "Observation",
        [
            {
                "id": "Observation.component",
                "slicing": {
                    "discriminator": [{"type": "value", "path": "value.ofType(Quantity)"}],
                    "rules": "closed",
                },
            },
            {"id": "Observation.component:one", "sliceName": "one", "max": "1"},
            {"id": "Observation.component:one.value[x]", "type": [{"code": "Quantity"}]},
            {"id": "Observation.component:one.valueQuantity", "patternQuantity": q(1, "kg")},
        ],
    )
    v = FhirValidator.base().with_definitions(DefinitionSet([prof]))

    def obs(*quantities: dict[str, Any]) -> list[tuple[str, str, str]]:
        res = {
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "x"},
            "component": [{"code": {"text": "c"}, "valueQuantity": x} for x in quantities],
        }
        issues = [i for i in v.validate(res, [prof["url"]]) if i.source != "base"]
        return sorted((i.severity, i.code, i.expression) for i in issues)

    assert obs(q(1000, "g")) == []
    assert obs(q(2.2046226218, "[lb_av]")) == [
        ("error", "slice-unmatched", "Observation.component[0]")
    ]  # not exactly 1 kg
    assert obs(q(1, "kg"), q(1000000, "mg")) == [
        ("error", "slice-cardinality", "Observation.component")
    ]
    assert obs(q(1, "m")) == [("error", "slice-unmatched", "Observation.component[0]")]


def test_comparison_is_precompiled_per_limit() -> None:
    compare = quantity_comparison(q(1, "kg"))
    assert [compare(x) for x in (q(999, "g"), q(1, "kg"), q(1.5, "kg"))] == [-1, 0, 1]
    assert compare(q(1, "m")) == INCOMPARABLE
    assert compare(q(1, "nonsense]")) == INVALID_UNIT
    assert compare({"code": "kg", "system": UCUM}) == UNKNOWN
    assert compare("1 kg") == UNKNOWN
    match = quantity_match("pattern", q(37, "Cel"))
    assert match(q(98.6, "[degF]")) is None
    assert match(q(1, "kg")) == INCOMPARABLE


@pytest.mark.parametrize(
    "odd",
    [
        {"value": "1", "code": "kg", "system": UCUM},
        {"value": True, "code": "kg", "system": UCUM},
        {"value": 1, "code": 5, "system": UCUM},
        {"value": 1, "code": ["kg"], "system": UCUM},
        {"value": 1e308, "code": "10*999.kg", "system": UCUM},
        {"value": 1, "code": "(" * 600, "system": UCUM},
        {"value": 1, "code": "kg", "system": ["x"]},
        {"extension": [{"url": "u", "valueString": "x"}]},
    ],
)
def test_quantities_of_any_shape_never_raise(odd: dict[str, Any]) -> None:
    for limits in (
        {"minValueQuantity": q(0, "kg")},
        {"maxValueQuantity": q(0, "kg")},
        {"fixedQuantity": q(1, "kg")},
        {"patternQuantity": q(1, "kg")},
        {"patternQuantity": {"system": UCUM, "code": "kg"}},
    ):
        for issue in issues_of(limited(**limits), odd):
            assert issue.severity in ("error", "warning")

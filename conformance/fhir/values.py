"""How profile rules compare FHIR values: fixed and pattern values (R4 §5.1.0.9 fixed[x],
pattern[x]), minimum and maximum values.

The one place these comparisons live: the profile checks (:func:`fixed_rule`,
:func:`pattern_rule`, :func:`limit_rule`) and the slice discriminators
(:func:`value_matcher`) both use them. Quantities whose system is UCUM on both sides
compare through :mod:`conformance.fhir.ucum` (1 kg is 1000 g, 37 Cel is 98.6 [degF]),
each profile Quantity made ready once per element (:func:`quantity_comparison`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from conformance.fhir import ucum
from conformance.fhir.issues import FhirIssue, Found

_NUMERIC = (int, float)


def pattern_matches(pattern: Any, value: Any) -> bool:
    """FHIR pattern semantics: everything in the pattern is present in the value."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(k in value and pattern_matches(v, value[k]) for k, v in pattern.items())
    if isinstance(pattern, list):
        if not isinstance(value, list):
            value = [value]
        return all(any(pattern_matches(p, v) for v in value) for p in pattern)
    if isinstance(pattern, _NUMERIC) and isinstance(value, _NUMERIC):
        return bool(pattern == value) and type(pattern) is not bool and type(value) is not bool
    return bool(pattern == value)


def fixed_matches(fixed: Any, value: Any) -> bool:
    if isinstance(fixed, dict | list):
        return pattern_matches(fixed, value) and _no_extra(fixed, value)
    return pattern_matches(fixed, value)


def _no_extra(fixed: Any, value: Any) -> bool:
    if isinstance(fixed, dict) and isinstance(value, dict):
        return all(
            k in fixed and _no_extra(fixed[k], v)
            for k, v in value.items()
            if k not in ("id", "extension")
        )
    if isinstance(fixed, list) and isinstance(value, list):
        return len(fixed) == len(value)
    return True


def compare(value: Any, limit: Any) -> int | None:
    """-1/0/1 comparing a number, date or time with a limit; None when they are not
    comparable (Quantities compare with :func:`quantity_comparison`)."""
    if isinstance(value, bool) or isinstance(limit, bool):
        return None
    if isinstance(value, _NUMERIC) and isinstance(limit, _NUMERIC):
        return (value > limit) - (value < limit)
    if isinstance(value, str) and isinstance(limit, str) and len(value) == len(limit):
        return (value > limit) - (value < limit)
    return None


# ------------------------------------------------------------------ Quantities

UCUM = "http://unitsofmeasure.org"
#: why two Quantities do not compare (else -1/0/1)
INCOMPARABLE = "incomparable"  # UCUM units of different kinds, or not convertible
INVALID_UNIT = "invalid-unit"  # the value's code is not valid UCUM
UNKNOWN = "unknown"  # no number, or units in no common system
_QUANTITY_KEYS = frozenset({"value", "code", "unit", "system"})
#: a Quantity -> -1/0/1 against a fixed Quantity, or why they do not compare
QuantityComparison = Callable[[Any], "int | str"]


def _number(x: Any) -> bool:
    return type(x) is int or type(x) is float


def quantity_comparison(limit: dict[str, Any]) -> QuantityComparison:
    """Compares Quantities with ``limit`` (precompiled once per profile element): the
    same code (and system) compare as numbers; UCUM codes (both systems
    http://unitsofmeasure.org) through their canonical UCUM values: ``1 kg`` is ``1000 g``,
    ``37 Cel`` is ``98.6 [degF]``."""
    lcode, lsystem, lunit = (limit.get(k) for k in ("code", "system", "unit"))
    lv: float = limit["value"] if _number(limit.get("value")) else 0
    lcanon = ucum.canonical(lv, lcode) if lsystem == UCUM and _number(limit.get("value")) else None
    usable = _number(limit.get("value"))

    def compared(value: Any) -> int | str:
        if type(value) is not dict or not usable:
            return UNKNOWN
        v: Any = value.get("value")
        code, system = value.get("code"), value.get("system")
        if not _number(v):
            return UNKNOWN
        if code == lcode and (system == lsystem or system is None or lsystem is None):
            if code is None and value.get("unit") != lunit:
                return UNKNOWN
            return int(v > lv) - int(v < lv)
        if system != UCUM or lsystem != UCUM or type(code) is not str:
            return UNKNOWN
        try:
            unit = ucum.parse(code)
        except ucum.UcumError:
            return INVALID_UNIT
        if lcanon is None or unit.problem is not None or unit.dimension != lcanon.dimension:
            return INCOMPARABLE
        got = ucum.canonical(v, code)
        if got is None:
            return UNKNOWN
        return (got.value > lcanon.value) - (got.value < lcanon.value)

    return compared


#: a value -> None when it matches a fixed or pattern Quantity, else why not
QuantityMatch = Callable[[Any], "str | None"]
MISMATCH = "mismatch"


def quantity_match(kind: str, want: Any) -> QuantityMatch:
    """Matching a fixed (``kind`` "fixed") or pattern Quantity: literally, or, for UCUM
    codes on both sides, the same amount in comparable units (``patternQuantity`` 1 kg
    matches 1000 g); a pattern naming only a unit matches that unit, annotations aside."""
    base = fixed_matches if kind == "fixed" else pattern_matches
    if type(want) is not dict or want.get("system") != UCUM or type(want.get("code")) is not str:
        return lambda value: None if base(want, value) else MISMATCH
    rest = {k: x for k, x in want.items() if k not in _QUANTITY_KEYS}
    wcode = want["code"]
    amount = quantity_comparison(want) if _number(want.get("value")) else None

    def matched(value: Any) -> str | None:
        if base(want, value):
            return None
        if type(value) is not dict or value.get("system") != UCUM:
            return MISMATCH
        if rest or kind == "fixed":
            others = {k: x for k, x in value.items() if k not in _QUANTITY_KEYS}
            if not base(rest, others):
                return MISMATCH
        if amount is None:
            if kind == "fixed" and "value" in value:
                return MISMATCH
            return None if ucum_equal(wcode, value.get("code")) else MISMATCH
        got = amount(value)
        if got == 0:
            return None
        return MISMATCH if type(got) is int or got == UNKNOWN else str(got)

    return matched


def value_matcher(kind: str, want: Any, quantity: bool) -> Callable[[Any], bool]:
    """Whether a value matches a fixed (``kind`` "fixed") or pattern value; UCUM-aware
    for a Quantity (slice discriminators)."""
    if quantity and type(want) is dict:
        match = quantity_match(kind, want)
        return lambda value: match(value) is None
    if kind == "fixed":
        return lambda value: fixed_matches(want, value)
    return lambda value: pattern_matches(want, value)


_UCUM_ANNOTATION = re.compile(r"\{[^}]*\}")


def ucum_equal(a: Any, b: Any) -> bool:
    """UCUM codes equal once {annotations} are dropped ({beats}/min is /min)."""
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    return _UCUM_ANNOTATION.sub("", a) == _UCUM_ANNOTATION.sub("", b)


# ------------------------------------------------------------------ profile rules

#: (value, the primitive's _name object, its type, %resource) -> issues, as profile checks
ValueTest = Callable[[Any, Any, "str | None", Any], "list[Found] | None"]


def fixed_rule(fixed: Any, in_quantity: bool, source: str, quantity: bool = False) -> ValueTest:
    """A fixed value: exactly that value (for a code inside a Quantity, UCUM codes equal
    once {annotations} are dropped: {beats}/min is /min; a Quantity as
    :func:`quantity_match`)."""
    message = "Value does not match the fixed value required by the profile"
    mismatch = FhirIssue("error", "profile-fixed-value", "", message, source)
    if quantity and type(fixed) is dict:
        return _quantity_rule(quantity_match("fixed", fixed), mismatch, "fixed value", source)
    if type(fixed) is str:  # fixed_matches on a string is equality
        if not in_quantity:

            def same(value: Any, ext: Any, t: str | None, res: Any) -> list[Found] | None:
                return None if value == fixed else [mismatch]

            return same

        def same_unit(value: Any, ext: Any, t: str | None, res: Any) -> list[Found] | None:
            return None if value == fixed or ucum_equal(fixed, value) else [mismatch]

        return same_unit

    def matching(value: Any, ext: Any, t: str | None, res: Any) -> list[Found] | None:
        if fixed_matches(fixed, value) or (in_quantity and ucum_equal(fixed, value)):
            return None
        return [mismatch]

    return matching


def _unit_issues(what: str, source: str) -> dict[str, list[Found]]:
    """The issues of a Quantity whose unit stops its comparison with the profile's
    ``what``, by the reason :func:`quantity_comparison` gives."""
    incomparable = f"Value's unit is not comparable with the unit of the profile's {what}"
    invalid = (
        f"Unit code is not a valid UCUM code, so the value cannot be compared with the "
        f"profile's {what}"
    )
    unknown = (
        f"Value cannot be compared with the profile's {what} (no number, or units in no "
        "common system)"
    )
    return {
        INCOMPARABLE: [FhirIssue("error", "quantity-incomparable", "", incomparable, source)],
        INVALID_UNIT: [FhirIssue("error", "ucum-invalid", ".code", invalid, source)],
        UNKNOWN: [FhirIssue("warning", "quantity-incomparable", "", unknown, source)],
    }


def _quantity_rule(match: QuantityMatch, mismatch: FhirIssue, what: str, source: str) -> ValueTest:
    by_reason = _unit_issues(what, source)

    def quantity(value: Any, ext: Any, t: str | None, res: Any) -> list[Found] | None:
        why = match(value)
        if why is None:
            return None
        return by_reason.get(why) or [mismatch]

    return quantity


def limit_rule(limit: Any, beyond: int, source: str) -> ValueTest:
    """A minimum (``beyond`` -1) or maximum (1) value; Quantities compared in UCUM."""
    if beyond < 0:
        code, message, what = (
            "profile-min-value",
            "Value is below the minimum the profile allows",
            "minimum value",
        )
    else:
        code, message, what = (
            "profile-max-value",
            "Value is above the maximum the profile allows",
            "maximum value",
        )
    outside = FhirIssue("error", code, "", message, source)
    if type(limit) is dict:
        comparison = quantity_comparison(limit)
        by_reason = _unit_issues(what, source)

        def within(value: Any, ext: Any, t: str | None, res: Any) -> list[Found] | None:
            got = comparison(value)
            if isinstance(got, int):
                return [outside] if got == beyond else None
            return by_reason[got] if got != UNKNOWN or type(value) is dict else None

        return within

    def limited(value: Any, ext: Any, t: str | None, res: Any) -> list[Found] | None:
        return [outside] if compare(value, limit) == beyond else None

    return limited


def pattern_rule(pattern: Any, source: str, quantity: bool = False) -> ValueTest:
    """A pattern value: everything in the pattern is in the value (a Quantity as
    :func:`quantity_match`)."""
    message = "Value does not match the pattern required by the profile"
    mismatch = FhirIssue("error", "profile-pattern", "", message, source)
    if quantity and type(pattern) is dict:
        return _quantity_rule(quantity_match("pattern", pattern), mismatch, "pattern", source)

    def patterned(value: Any, ext: Any, t: str | None, res: Any) -> list[Found] | None:
        return None if pattern_matches(pattern, value) else [mismatch]

    return patterned

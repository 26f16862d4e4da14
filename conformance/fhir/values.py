"""How profile rules compare FHIR values: fixed and pattern values (R4 §5.1.0.9 fixed[x],
pattern[x]), minimum and maximum values.

The one place these comparisons live: the profile checks (:func:`fixed_rule`,
:func:`pattern_rule`, :func:`limit_rule`) and the slice discriminators both use them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

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
    """-1/0/1 comparing a value with a limit; None when they are not comparable."""
    if isinstance(value, dict) and isinstance(limit, dict):
        if value.get("code", value.get("unit")) != limit.get("code", limit.get("unit")):
            return None
        value, limit = value.get("value"), limit.get("value")
    if isinstance(value, bool) or isinstance(limit, bool):
        return None
    if isinstance(value, _NUMERIC) and isinstance(limit, _NUMERIC):
        return (value > limit) - (value < limit)
    if isinstance(value, str) and isinstance(limit, str) and len(value) == len(limit):
        return (value > limit) - (value < limit)
    return None


_UCUM_ANNOTATION = re.compile(r"\{[^}]*\}")


def ucum_equal(a: Any, b: Any) -> bool:
    """UCUM codes equal once {annotations} are dropped ({beats}/min is /min)."""
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    return _UCUM_ANNOTATION.sub("", a) == _UCUM_ANNOTATION.sub("", b)


# ------------------------------------------------------------------ profile rules

#: (value, the primitive's _name object, its type, %resource) -> issues, as profile checks
ValueTest = Callable[[Any, Any, "str | None", Any], "list[Found] | None"]


def fixed_rule(fixed: Any, in_quantity: bool, source: str) -> ValueTest:
    """A fixed value: exactly that value (for a code inside a Quantity, UCUM codes equal
    once {annotations} are dropped: {beats}/min is /min)."""
    message = "Value does not match the fixed value required by the profile"
    mismatch = FhirIssue("error", "profile-fixed-value", "", message, source)
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


def limit_rule(limit: Any, beyond: int, source: str) -> ValueTest:
    """A minimum (``beyond`` -1) or maximum (1) value."""
    if beyond < 0:
        code, message = "profile-min-value", "Value is below the minimum the profile allows"
    else:
        code, message = "profile-max-value", "Value is above the maximum the profile allows"
    outside = FhirIssue("error", code, "", message, source)

    def limited(value: Any, ext: Any, t: str | None, res: Any) -> list[Found] | None:
        return [outside] if compare(value, limit) == beyond else None

    return limited


def pattern_rule(pattern: Any, source: str) -> ValueTest:
    """A pattern value: everything in the pattern is in the value."""
    message = "Value does not match the pattern required by the profile"
    mismatch = FhirIssue("error", "profile-pattern", "", message, source)

    def patterned(value: Any, ext: Any, t: str | None, res: Any) -> list[Found] | None:
        return None if pattern_matches(pattern, value) else [mismatch]

    return patterned

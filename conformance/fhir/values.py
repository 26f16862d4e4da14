"""How profile rules compare FHIR values: fixed and pattern values, minimum and maximum
values, bindings.

The one place these comparisons live: the profile checks and slice discriminators both
use them.
"""

from __future__ import annotations

import re
from typing import Any

from conformance.fhir.terminology import Expansion

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


def binding_ok(value: Any, strength: str, exp: Expansion) -> bool:
    """Whether a value meets a profile binding (True too for values it says nothing of)."""
    if isinstance(value, str):
        return any(value in codes for codes in exp.values())
    if (isinstance(value, dict) and "coding" in value) or (
        isinstance(value, dict) and "text" in value and "code" not in value
    ):
        codings = value.get("coding")
        codings = codings if isinstance(codings, list) else []
        ok = any(
            isinstance(c, dict)
            and isinstance(c.get("code"), str)
            and c["code"] in exp.get(str(c.get("system")), ())
            for c in codings
        )
        if not ok and not codings:
            return True  # text only: nothing coded to check
        if not ok and strength == "extensible" and "text" in value:
            return True
        return ok
    if isinstance(value, dict) and "code" in value:
        sys_ = value.get("system")
        code = value.get("code")
        if not isinstance(code, str):
            return False  # a code that is not text meets no binding (and is a type error)
        if sys_ is None:
            return any(code in codes for codes in exp.values())
        return code in exp.get(str(sys_), ())
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


def in_expansion(v: Any, exp: Expansion) -> bool:
    if isinstance(v, str):
        return any(v in c for c in exp.values())
    if isinstance(v, dict):
        if "coding" in v and isinstance(v["coding"], list):
            return any(in_expansion(c, exp) for c in v["coding"])
        code = v.get("code")
        return isinstance(code, str) and code in exp.get(str(v.get("system")), ())
    return False

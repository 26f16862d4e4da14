"""The R4 primitive types: one predicate per type for its JSON value, and the issue when
a value fails it.

The regular expressions come from the R4 definitions (shipped data); JSON types follow R4
§2.6.2 (booleans and numbers as JSON booleans and numbers, everything else as strings);
dates are also checked against the calendar; ``xhtml`` is the narrative rules (the one
XHTML checker, behind FHIRPath's ``htmlChecks()``).
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable
from typing import Any

from conformance.fhir.fhirpath._html import html_checks, xhtml_problems
from conformance.fhir.issues import FhirIssue, Found
from conformance.fhir.uris import URI_TYPES, uri_problem, uri_regex

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_DATE_PARTS = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_JSON_SCALARS = frozenset({"boolean", "integer", "positiveInt", "unsignedInt", "decimal"})
_STRING_RX = re.compile(r"[ \r\n\t\S]+", re.ASCII).fullmatch
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}").fullmatch
_SPACES = re.compile(r"\s+")
#: R4 §2.24.0.1 (string): "strings SHALL NOT exceed 1MB in size" (HL7's validator counts
#: characters: 1048576); base64Binary has no such limit
STRING_MAX = 1048576

#: one primitive JSON value -> valid?
PrimOk = Callable[[Any], bool]


def _date_ok(value: str) -> bool:
    m = _DATE_PARTS.match(value)
    if m is None:
        return False
    y, mo, d = m.group(1), m.group(2), m.group(3)
    if d is not None and mo is not None and d > "28":
        return int(d) <= calendar.monthrange(int(y), int(mo))[1]
    return True


def _string_ok(v: Any) -> bool:
    # the R4 regex [ \r\n\t\S]+ only forbids empty strings and other control spaces
    return (
        type(v) is str
        and v != ""
        and (v.isprintable() or _STRING_RX(v) is not None)
        and len(v) <= STRING_MAX
    )


def _boolean_ok(v: Any) -> bool:
    return v is True or v is False


def _decimal_ok(v: Any) -> bool:
    t = type(v)
    return t is int or (t is float and math.isfinite(v))


def _xhtml_ok(v: Any) -> bool:
    # the narrative rules (htmlChecks(), txt-1), on a div written first
    return type(v) is str and v.lstrip().startswith("<div") and html_checks(v)


def _base64_ok(v: Any) -> bool:
    if type(v) is not str:
        return False
    s = _SPACES.sub("", v) if " " in v or "\n" in v or "\r" in v or "\t" in v else v
    return len(s) % 4 == 0 and s != "" and _BASE64(s) is not None


def _integer(low: int) -> PrimOk:
    def ok(v: Any) -> bool:
        return type(v) is int and low <= v <= _INT_MAX

    return ok


def _matching(regex: str, dates: bool) -> PrimOk:
    match = re.compile(regex, re.ASCII).fullmatch
    if dates:

        def date_ok(v: Any) -> bool:
            return type(v) is str and match(v) is not None and _date_ok(v)

        return date_ok

    def ok(v: Any) -> bool:
        return type(v) is str and match(v) is not None

    return ok


class Prim:
    """One primitive type: ``ok(value)`` is the whole check of a valid value."""

    __slots__ = ("expect", "name", "ok")

    def __init__(self, name: str, regex: str) -> None:
        self.name = name
        self.expect = "a string"
        ok: PrimOk
        if name == "boolean":
            self.expect = "a JSON boolean"
            ok = _boolean_ok
        elif name in ("integer", "positiveInt", "unsignedInt"):
            self.expect = "a JSON integer in range"
            ok = _integer({"integer": _INT_MIN, "positiveInt": 1, "unsignedInt": 0}[name])
        elif name == "decimal":
            self.expect = "a JSON number"
            ok = _decimal_ok
        elif name == "xhtml":
            ok = _xhtml_ok
        elif name == "base64Binary":
            ok = _base64_ok
        elif name in ("string", "markdown"):
            ok = _string_ok
        else:
            if name in URI_TYPES:  # and the rules of urn:uuid: and urn:oid:
                regex = uri_regex(regex)
            ok = _matching(regex, name in ("date", "dateTime", "instant"))
        self.ok = ok

    def problem(self, value: Any, element: str, at: str) -> Found:
        """The issue of an invalid ``value`` of element ``element``, located at ``at``."""
        if value == "" or value is None:
            return FhirIssue(
                "error",
                "empty-element",
                at,
                f"Element '{element}' has an empty or null value (ele-1)",
                "base",
            )
        if type(value) in (dict, list):
            return FhirIssue(
                "error",
                "invalid-type",
                at,
                f"Element '{element}' must be a primitive {self.name}",
                "base",
            )
        if type(value) is str and len(value) > STRING_MAX and self.name in ("string", "markdown"):
            return FhirIssue(
                "error",
                "string-too-long",
                at,
                f"Element '{element}' is longer than the 1 MB (1048576 characters) a string "
                "may hold",
                "base",
            )
        if self.name == "xhtml" and type(value) is str:
            problems = xhtml_problems(value) or ["the root element must be an XHTML div"]
            return FhirIssue(
                "error",
                "invalid-primitive",
                at,
                f"Element '{element}' is not valid XHTML narrative: {'; '.join(problems[:3])}",
                "base",
            )
        if self.name in _JSON_SCALARS or type(value) is not str:
            return FhirIssue(
                "error",
                "invalid-type",
                at,
                f"Element '{element}' must be {self.expect} ({self.name})",
                "base",
            )
        detail = uri_problem(self.name, value) or f"is not a valid {self.name}"
        return FhirIssue("error", "invalid-primitive", at, f"Element '{element}' {detail}", "base")

"""A FHIR R4 Bundle of OperationOutcomes: one per input resource that has findings.

Findings are grouped by where the resource was read (file and line, Bundle entry or table
row); each group becomes an OperationOutcome whose ``issue`` list holds that resource's
findings, with the FHIR ``IssueType`` mapped from our finding code (see
:func:`issue_type`), ``details.text`` our (masked) message, ``details.coding`` our code,
``expression`` the element, and ``diagnostics`` the requirement. The input location is
in the :data:`INPUT_LOCATION_URL` extension on the OperationOutcome.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, ClassVar, Final

import orjson

from conformance.reporters.base import RenderOptions
from conformance.scorecard.model import FindingData, ScorecardData

BASE_URL: Final = "https://w3id.org/mdss"
INPUT_LOCATION_URL: Final = f"{BASE_URL}/StructureDefinition/conformance-input-location"
FINDING_CODE_SYSTEM: Final = f"{BASE_URL}/CodeSystem/conformance-finding"
_NAMESPACE: Final = uuid.UUID("5a0c6f8e-3a57-4f0e-9f55-9c3a7c1e4d21")

ISSUE_TYPES: Final = frozenset(
    (
        "invalid",
        "structure",
        "required",
        "value",
        "invariant",
        "security",
        "login",
        "unknown",
        "expired",
        "forbidden",
        "suppressed",
        "processing",
        "not-supported",
        "duplicate",
        "multiple-matches",
        "not-found",
        "deleted",
        "too-long",
        "code-invalid",
        "extension",
        "too-costly",
        "business-rule",
        "conflict",
        "transient",
        "lock-lost",
        "no-store",
        "exception",
        "timeout",
        "incomplete",
        "throttled",
        "informational",
    )
)
"""The FHIR R4 ``IssueType`` codes (http://hl7.org/fhir/issue-type)."""

_EXACT: Final[dict[str, str]] = {
    "invalid-json": "structure",
    "invalid-utf8": "structure",
    "not-an-object": "structure",
    "empty-file": "structure",
    "invalid-bundle": "structure",
    "unknown-resource-type": "structure",
    "table-schema": "structure",
    "unknown-table": "not-supported",
    "invariant": "invariant",
    "binding-required": "code-invalid",
    "binding-extensible": "code-invalid",
    "file-missing": "not-found",
    "manifest-missing": "required",
    "limit-exceeded": "too-costly",
    "file-too-large": "too-costly",
    "unreadable-input": "processing",
    "check-error": "exception",
    "identifier-in-name": "security",
    "sha256-mismatch": "conflict",
    "count-mismatch": "conflict",
    "file-not-in-manifest": "business-rule",
    "link-outside-input": "forbidden",
}
# Keyword rules, tried in order on codes not in the table above.
_RULES: Final[tuple[tuple[str, str], ...]] = (
    ("truncated", "incomplete"),
    ("invariant", "invariant"),
    ("constraint", "invariant"),
    ("-missing", "required"),
    ("required", "required"),
    ("cardinality", "structure"),
    ("unparseable", "structure"),
    ("shared", "duplicate"),
    ("duplicate", "duplicate"),
    ("unresolved", "not-found"),
    ("not-found", "not-found"),
    ("binding", "code-invalid"),
    ("snomed", "code-invalid"),
    ("code", "code-invalid"),
    ("terminology", "code-invalid"),
    ("unknown-", "not-supported"),
    ("too-long", "too-long"),
    ("too-deep", "too-costly"),
    ("limit", "too-costly"),
    ("outside-period", "business-rule"),
    ("late", "business-rule"),
    ("stale", "business-rule"),
    ("check-digit", "value"),
    ("range", "value"),
    ("future", "value"),
    ("invalid", "value"),
    ("format", "value"),
    ("date", "value"),
    ("not-", "business-rule"),
)


def issue_type(code: str) -> str:
    """Map one of our finding codes to a FHIR R4 ``IssueType`` code (default ``invalid``)."""
    found = _EXACT.get(code)
    if found is not None:
        return found
    for needle, issue in _RULES:
        if needle in code:
            return issue
    return "invalid"


def _group_key(loc: Mapping[str, Any]) -> tuple[str, int, int, int]:
    return (
        str(loc.get("file", "")),
        int(loc.get("line", -1)),
        int(loc.get("entry", -1)),
        int(loc.get("row", -1)) if "line" not in loc else -1,
    )


def _location_extension(
    loc: Mapping[str, Any], resource_type: str | None, resource_id: str | None
) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if "file" in loc:
        parts.append({"url": "file", "valueString": str(loc["file"])})
    if "line" in loc:
        parts.append({"url": "line", "valuePositiveInt": int(loc["line"])})
    if "entry" in loc:
        parts.append({"url": "entry", "valueUnsignedInt": int(loc["entry"])})
    if "row" in loc:
        parts.append({"url": "row", "valuePositiveInt": int(loc["row"])})
    if resource_type:
        parts.append({"url": "resourceType", "valueCode": resource_type})
    if resource_id:
        parts.append({"url": "resourceId", "valueString": resource_id})
    if not parts:
        parts.append({"url": "file", "valueString": "<feed>"})
    return {"url": INPUT_LOCATION_URL, "extension": parts}


class OperationOutcomeReporter:
    name: ClassVar[str] = "operationoutcome"
    description: ClassVar[str] = (
        "FHIR Bundle of OperationOutcomes, one per input resource with findings"
    )
    extension: ClassVar[str] = ".json"

    def render(self, scorecard: ScorecardData, options: RenderOptions) -> str:
        levels = {r["id"]: r["level"] for r in scorecard["requirements"]}
        groups: dict[tuple[str, int, int, int], list[FindingData]] = {}
        for f in scorecard["findings"]:
            groups.setdefault(_group_key(f["location"]), []).append(f)
        std = scorecard["standard"]
        seed = f"{std['id']}@{std['version']}|{scorecard.get('feed', {}).get('id', '')}"
        entries: list[dict[str, Any]] = []
        for key, findings in groups.items():
            first = findings[0]
            rtype = next((f["resource_type"] for f in findings if f.get("resource_type")), None)
            rid = next((f["resource_id"] for f in findings if f.get("resource_id")), None)
            loc = {k: v for k, v in first["location"].items() if k != "expression"}
            issues = []
            for f in findings:
                issue: dict[str, Any] = {
                    "severity": f["severity"],
                    "code": issue_type(f["code"]),
                    "details": {
                        "coding": [{"system": FINDING_CODE_SYSTEM, "code": f["code"]}],
                        "text": f["message"],
                    },
                    "diagnostics": f"{f['requirement']} ({levels.get(f['requirement'], 'input')})",
                }
                if "expression" in f["location"]:
                    issue["expression"] = [f["location"]["expression"]]
                issues.append(issue)
            ident = uuid.uuid5(_NAMESPACE, f"{seed}|{key}")
            entries.append(
                {
                    "fullUrl": f"urn:uuid:{ident}",
                    "resource": {
                        "resourceType": "OperationOutcome",
                        "id": str(ident),
                        "extension": [_location_extension(loc, rtype, rid)],
                        "issue": issues,
                    },
                }
            )
        bundle: dict[str, Any] = {
            "resourceType": "Bundle",
            "id": str(uuid.uuid5(_NAMESPACE, seed)),
            "meta": {
                "tag": [{"system": f"{BASE_URL}/standard", "code": f"{std['id']}@{std['version']}"}]
            },
            "type": "collection",
        }
        started = scorecard.get("run", {}).get("started")
        if isinstance(started, str) and started:
            bundle["timestamp"] = started
        bundle["entry"] = entries
        if not entries:
            del bundle["entry"]
        return orjson.dumps(bundle, option=orjson.OPT_INDENT_2).decode() + "\n"

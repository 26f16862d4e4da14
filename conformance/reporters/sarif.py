"""SARIF 2.1.0 for code scanning: rules are the requirements, results the findings.

Each rule carries the requirement's title, rationale and measure (from the embedded
standard when the scorecard's exact version is installed). Each result points at the
input file and line (NDJSON line, CSV line) with the element expression as a logical
location; a Bundle entry or table row goes in the result's properties. A requirement
that is not met but has no example finding (a population measure) still gets one result,
so it is not invisible in a code-scanning view.

GitHub code scanning refuses results without a location, so every result has one: its
file, else the feed's manifest, else the feed root. URIs are relative to where the run
started (the feed root joined to the file), as code scanning resolves them against the
repository; a feed given by an absolute path gets ``file://`` URIs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

import orjson

from conformance.reporters.base import RenderOptions
from conformance.reporters.common import (
    NOT_MET,
    fallback_path,
    feed_path,
    findings_by_requirement,
    percent,
    requirement_help,
    threshold_text,
)
from conformance.scorecard.model import ScorecardData

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {"error": "error", "warning": "warning", "information": "note"}
LEVEL_DEFAULT = {"MUST": "error", "SHOULD": "warning", "MAY": "note"}
INFORMATION_URI = "https://w3id.org/mdss/conformance"


def artifact_uri(path: str) -> str:
    """A URI for an input path: relative (forward slashes, escaped), or ``file://`` for an
    absolute one."""
    path = path.replace("\\", "/")
    absolute = path.startswith("/") or (len(path) > 2 and path[1] == ":" and path[2] == "/")
    escaped = quote(path, safe="/@-._~!$&'()*+,;=" + (":" if absolute else ""))
    if absolute:
        return "file://" + ("" if path.startswith("/") else "/") + escaped
    return escaped


def _physical(uri_path: str, line: Any = None, column: Any = None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(uri_path)}}
    if isinstance(line, int) and line >= 1:
        region: dict[str, Any] = {"startLine": line}
        if isinstance(column, int) and column >= 1:
            region["startColumn"] = column
        physical["region"] = region
    return physical


def fingerprint(f: Mapping[str, Any]) -> str:
    loc = f["location"]
    parts = [
        f["requirement"],
        f["code"],
        str(loc.get("file", "")),
        str(loc.get("line", "")),
        str(loc.get("entry", "")),
        str(loc.get("row", "")),
        str(loc.get("expression", "")),
        str(f.get("resource_id", "")),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _rule_name(title: str) -> str:
    words = [w for w in "".join(c if c.isalnum() else " " for c in title).split() if w]
    return "".join(w[:1].upper() + w[1:] for w in words)[:120] or "Requirement"


def _rule(req: Mapping[str, Any], help_text: Any, std_ref: str) -> dict[str, Any]:
    title = req["title"]
    lines = [f"{req['level']} requirement of {std_ref} ({req['domain']}): {title}."]
    md = [f"**{req['level']}** requirement of `{std_ref}` ({req['domain']}): {title}."]
    full = title
    if help_text is not None:
        full = help_text.rationale or title
        if help_text.rationale:
            lines.append(f"Why: {help_text.rationale}")
            md.append(f"**Why.** {help_text.rationale}")
        if help_text.measure:
            lines.append(f"Measure: {help_text.measure}")
            md.append(f"**Measure.** {help_text.measure}")
        if help_text.source:
            lines.append(f"Source: {help_text.source}")
            md.append(f"**Source.** {help_text.source}")
    lines.append(f"Threshold: {threshold_text(req['threshold'])} of records.")
    md.append(f"**Threshold.** {threshold_text(req['threshold'])} of records.")
    return {
        "id": req["id"],
        "name": _rule_name(title),
        "shortDescription": {"text": title},
        "fullDescription": {"text": full},
        "help": {"text": "\n".join(lines), "markdown": "\n\n".join(md)},
        "defaultConfiguration": {"level": LEVEL_DEFAULT.get(req["level"], "warning")},
        "properties": {
            "level": req["level"],
            "domain": req["domain"],
            "threshold": req["threshold"],
            "tags": [req["domain"], req["level"].lower(), "mdss"],
        },
    }


def _result(f: Mapping[str, Any], rule_index: int, card: Mapping[str, Any]) -> dict[str, Any]:
    loc = f["location"]
    result: dict[str, Any] = {
        "ruleId": f["requirement"],
        "ruleIndex": rule_index,
        "level": SARIF_LEVEL.get(f["severity"], "warning"),
        "message": {"text": f["message"]},
        "partialFingerprints": {"conformanceFinding/v1": fingerprint(f)},
    }
    location: dict[str, Any] = {}
    if "file" in loc:
        where = feed_path(card, str(loc["file"]))
        location["physicalLocation"] = _physical(where, loc.get("line"), loc.get("column"))
    else:
        fallback = fallback_location(card)
        if fallback is not None:
            location["physicalLocation"] = fallback
    if "expression" in loc:
        location["logicalLocations"] = [{"fullyQualifiedName": loc["expression"], "kind": "member"}]
    if location:
        result["locations"] = [location]
    props: dict[str, Any] = {"code": f["code"]}
    for key in ("entry", "row"):
        if key in loc:
            props[key] = loc[key]
    for key in ("resource_type", "resource_id"):
        if key in f:
            props[key] = f[key]
    result["properties"] = props
    return result


def fallback_location(card: Mapping[str, Any]) -> dict[str, Any] | None:
    """The physical location of a result about the feed as a whole: the manifest (its
    first line), else the feed root."""
    path = fallback_path(card)
    if path is None:
        return None
    line = 1 if (card.get("feed") or {}).get("manifest") else None
    return _physical(path, line)


class SarifReporter:
    name: ClassVar[str] = "sarif"
    description: ClassVar[str] = "SARIF 2.1.0 for code scanning (rules = requirements)"
    extension: ClassVar[str] = ".sarif"

    def render(self, scorecard: ScorecardData, options: RenderOptions) -> str:
        std = scorecard["standard"]
        std_ref = f"{std['id']}@{std['version']}"
        helps = requirement_help(scorecard)
        rules: list[dict[str, Any]] = []
        index: dict[str, int] = {}
        for req in scorecard["requirements"]:
            index[req["id"]] = len(rules)
            rules.append(_rule(req, helps.get(req["id"]), std_ref))
        results: list[dict[str, Any]] = []
        for f in scorecard["findings"]:
            rid = f["requirement"]
            if rid not in index:  # input problems counted outside the standard's requirements
                index[rid] = len(rules)
                rules.append(
                    {
                        "id": rid,
                        "name": _rule_name(rid),
                        "shortDescription": {"text": f"Input problems ({rid})"},
                        "defaultConfiguration": {"level": "error"},
                    }
                )
            results.append(_result(f, index[rid], scorecard))
        with_examples = findings_by_requirement(scorecard)
        for req in scorecard["requirements"]:
            if req["status"] in NOT_MET and req["id"] not in with_examples:
                rate = req["rate"]
                text = f"{req['id']} not met: " + (
                    "failed outright"
                    if rate is None
                    else f"rate {percent(rate)} below threshold {threshold_text(req['threshold'])}"
                )
                if req.get("note"):
                    text += f" ({req['note']})"
                result: dict[str, Any] = {
                    "ruleId": req["id"],
                    "ruleIndex": index[req["id"]],
                    "level": LEVEL_DEFAULT.get(req["level"], "warning"),
                    "message": {"text": text},
                    "properties": {"status": req["status"]},
                }
                fallback = fallback_location(scorecard)
                if fallback is not None:
                    result["locations"] = [{"physicalLocation": fallback}]
                results.append(result)
        tool = scorecard["tool"]
        driver = {
            "name": "conformance",
            "version": str(tool["version"]),
            "informationUri": INFORMATION_URI,
            "rules": rules,
        }
        run_info = scorecard.get("run", {})
        invocation: dict[str, Any] = {"executionSuccessful": bool(scorecard["complete"])}
        if "started" in run_info:
            invocation["startTimeUtc"] = run_info["started"]
        artifacts = [
            {
                "location": {"uri": artifact_uri(feed_path(scorecard, i["file"]))},
                **({"hashes": {"sha-256": i["sha256"]}} if i.get("sha256") else {}),
            }
            for i in scorecard["inputs"]
        ]
        sarif_run: dict[str, Any] = {
            "tool": {"driver": driver},
            "invocations": [invocation],
            "artifacts": artifacts,
            "results": results,
            "columnKind": "unicodeCodePoints",
            "properties": {
                "standard": std_ref,
                "verdict": scorecard["verdict"],
                "score": scorecard["score"],
                "feed": scorecard.get("feed", {}),
            },
        }
        doc = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [sarif_run]}
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n"

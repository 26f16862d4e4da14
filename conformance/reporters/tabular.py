"""Findings as CSV, and as GitLab Code Quality (CodeClimate JSON) for merge requests."""

from __future__ import annotations

import csv
import hashlib
import io
from typing import Any, ClassVar

import orjson

from conformance.privacy import csv_cell
from conformance.reporters.base import RenderOptions
from conformance.reporters.common import fallback_path, feed_path, location_text
from conformance.scorecard.model import ScorecardData

CSV_COLUMNS = (
    "requirement",
    "level",
    "severity",
    "code",
    "file",
    "line",
    "entry",
    "row",
    "expression",
    "resource_type",
    "resource_id",
    "message",
)


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return csv_cell(str(value))


class CsvReporter:
    name: ClassVar[str] = "csv"
    description: ClassVar[str] = (
        "CSV of the findings kept in the scorecard (one row each; counts are in the JSON)"
    )
    extension: ClassVar[str] = ".csv"

    def render(self, scorecard: ScorecardData, options: RenderOptions) -> str:
        levels = {r["id"]: r["level"] for r in scorecard["requirements"]}
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for f in scorecard["findings"]:
            loc = f["location"]
            writer.writerow(
                [
                    _cell(f["requirement"]),
                    _cell(levels.get(f["requirement"], "")),
                    _cell(f["severity"]),
                    _cell(f["code"]),
                    _cell(loc.get("file")),
                    _cell(loc.get("line")),
                    _cell(loc.get("entry")),
                    _cell(loc.get("row")),
                    _cell(loc.get("expression")),
                    _cell(f.get("resource_type")),
                    _cell(f.get("resource_id")),
                    _cell(f["message"]),
                ]
            )
        return out.getvalue()


CODEQUALITY_SEVERITY = {"error": "critical", "warning": "minor", "information": "info"}


class CodeQualityReporter:
    """GitLab's Code Quality report (a subset of the CodeClimate issue format)."""

    name: ClassVar[str] = "codequality"
    description: ClassVar[str] = "GitLab Code Quality report (CodeClimate JSON)"
    extension: ClassVar[str] = ".json"

    def render(self, scorecard: ScorecardData, options: RenderOptions) -> str:
        seen: dict[str, int] = {}
        issues: list[dict[str, Any]] = []
        fallback = fallback_path(scorecard) or "."
        for f in scorecard["findings"]:
            loc = f["location"]
            key = "\x1f".join(
                [f["requirement"], f["code"], location_text(loc), str(f.get("resource_id", ""))]
            )
            digest = hashlib.sha256(key.encode()).hexdigest()
            n = seen.get(digest, 0)
            seen[digest] = n + 1
            if n:  # the same finding twice at one place: keep fingerprints unique
                digest = hashlib.sha256(f"{key}\x1f{n}".encode()).hexdigest()
            description = f"{f['requirement']}: {f['message']}"
            if "entry" in loc:
                description += f" (entry {loc['entry']})"
            if "expression" in loc:
                description += f" at {loc['expression']}"
            issues.append(
                {
                    "type": "issue",
                    "check_name": f"{f['requirement']}/{f['code']}",
                    "description": description,
                    "categories": ["Compatibility"],
                    "severity": CODEQUALITY_SEVERITY.get(f["severity"], "minor"),
                    "fingerprint": digest,
                    "location": {
                        "path": feed_path(scorecard, loc["file"]) if "file" in loc else fallback,
                        "lines": {"begin": int(loc.get("line", 1))},
                    },
                }
            )
        return orjson.dumps(issues, option=orjson.OPT_INDENT_2).decode() + "\n"

"""What GitHub code scanning requires of an uploaded SARIF file, beyond the SARIF schema.

From GitHub's "SARIF support for code scanning": each result needs a rule it names
(``ruleId`` declared in ``tool.driver.rules``), a message, and at least one location
whose ``physicalLocation.artifactLocation.uri`` is given, relative to the repository
root (or a ``file://`` URI); a region, where given, starts at line 1 or later. A run
holds at most 25,000 results.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema

SCHEMA = Path(__file__).resolve().parents[1] / "reporters" / "data" / "sarif-schema-2.1.0.json"
MAX_RESULTS = 25_000


def schema_errors(doc: Any) -> list[str]:
    validator = jsonschema.Draft4Validator(json.loads(SCHEMA.read_text()))
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    return [f"{list(e.path)}: {e.message}" for e in errors]


def upload_problems(doc: Any, *, relative_only: bool = True) -> list[str]:
    """Every reason GitHub's upload would reject ``doc`` (empty: it would be accepted)."""
    problems = schema_errors(doc)
    if doc.get("version") != "2.1.0" or not doc.get("runs"):
        problems.append("not a SARIF 2.1.0 log with runs")
    for r, run in enumerate(doc.get("runs", [])):
        driver = run.get("tool", {}).get("driver", {})
        if not driver.get("name"):
            problems.append(f"runs[{r}]: tool.driver.name missing")
        rules = [rule.get("id") for rule in driver.get("rules", [])]
        if len(rules) != len(set(rules)):
            problems.append(f"runs[{r}]: rule ids repeat")
        results = run.get("results", [])
        if len(results) > MAX_RESULTS:
            problems.append(f"runs[{r}]: {len(results)} results (at most {MAX_RESULTS})")
        for i, result in enumerate(results):
            where = f"runs[{r}].results[{i}] ({result.get('ruleId')})"
            rule_id = result.get("ruleId")
            if rule_id not in rules:
                problems.append(f"{where}: ruleId not among the tool's rules")
            index = result.get("ruleIndex")
            if index is not None and (index >= len(rules) or rules[index] != rule_id):
                problems.append(f"{where}: ruleIndex does not name its ruleId")
            if not result.get("message", {}).get("text"):
                problems.append(f"{where}: no message text")
            locations = result.get("locations") or []
            if not locations:
                problems.append(f"{where}: no location")
                continue
            physical = locations[0].get("physicalLocation") or {}
            uri = (physical.get("artifactLocation") or {}).get("uri")
            if not uri:
                problems.append(f"{where}: locations[0] has no artifactLocation.uri")
                continue
            scheme = urlsplit(uri).scheme
            if relative_only and (scheme or uri.startswith("/")):
                problems.append(f"{where}: URI {uri!r} is not relative")
            elif scheme not in ("", "file"):
                problems.append(f"{where}: URI {uri!r} is neither relative nor file://")
            region = physical.get("region")
            if region is not None and not (
                isinstance(region.get("startLine"), int) and region["startLine"] >= 1
            ):
                problems.append(f"{where}: region.startLine is not a line number >= 1")
    return problems

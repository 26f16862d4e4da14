"""Build the scorecard from the checks' measures and the findings.

Status of a requirement (rate = numerator / denominator, threshold default 100 %):

* ``not-applicable``: nothing to measure (denominator 0), or the check says so;
* ``pass``: rate >= threshold;
* ``partial``: 0 < rate < threshold (some but not enough: the requirement is not met);
* ``fail``: rate = 0, or the check says the requirement failed outright.

Score (0-100): see :data:`conformance.scorecard.score.SCORE_EXPLANATION` (the one
place the formula is explained): runs meeting every MUST score 50 to 100, the others
(and interrupted runs) below 50.

Verdict: ``Not conformant`` when any MUST is not met (partial or fail); otherwise
``Conformant with warnings`` when any SHOULD is not met; otherwise ``Conformant``.
An interrupted run is ``Incomplete``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from conformance.__about__ import __version__
from conformance.checks.base import Measure
from conformance.engine.collector import FindingCollector
from conformance.feed import FeedInfo
from conformance.findings import Finding
from conformance.plugin import HOOK_API_VERSION
from conformance.privacy import scrub, scrub_tree
from conformance.scorecard.model import (
    SCORECARD_SCHEMA_VERSION,
    Scorecard,
    Verdict,
    scorecard_data,
)
from conformance.scorecard.score import credit, domain_score, overall_score, weighted_mean
from conformance.standards.model import Level, Requirement, Standard

NOT_MET = ("fail", "partial")


@dataclass(slots=True)
class InputSummary:
    file: str
    format: str | None
    records_read: int = 0
    records_unparseable: int = 0
    sha256: str | None = None
    relative: str | None = None
    """Path relative to the feed root, when the feed has a manifest (not serialised)."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": scrub(self.file),
            "format": self.format,
            "records_read": self.records_read,
            "records_validated": self.records_read - self.records_unparseable,
            "records_unparseable": self.records_unparseable,
        }
        if self.sha256:
            out["sha256"] = self.sha256
        return out


def requirement_status(measure: Measure | None, threshold: float) -> tuple[str, float | None]:
    if measure is None:
        return "error", None
    rate = measure.rate
    if measure.status is not None:
        return measure.status, rate
    if rate is None:
        return "not-applicable", None
    if rate >= threshold - 1e-12:
        return "pass", rate
    if rate > 0:
        return "partial", rate
    return "fail", rate


def _finding_order(f: Finding) -> tuple[Any, ...]:
    loc = f.location
    return (
        loc.file or "",
        loc.line or 0,
        -1 if loc.entry is None else loc.entry,
        loc.row or 0,
        f.requirement,
        f.code,
        loc.expression or "",
    )


def build_scorecard(
    *,
    standard: Standard,
    feed: FeedInfo,
    measures: dict[str, Measure | None],
    collector: FindingCollector,
    inputs: list[InputSummary],
    counts: dict[str, Any],
    complete: bool,
    plugin_failures: list[dict[str, str]],
    crashes: dict[str, int],
    started_at: str,
    duration: float,
) -> Scorecard:
    requirements: list[dict[str, Any]] = []
    credits: list[tuple[Level, float | None]] = []
    by_domain: dict[str, list[tuple[Requirement, str, float | None]]] = {}
    for req in standard.requirements:
        measure = measures.get(req.id)
        threshold = req.effective_threshold
        status, rate = requirement_status(measure, threshold)
        earned = credit(status, rate, threshold)
        credits.append((req.level, earned))
        by_domain.setdefault(req.domain, []).append((req, status, earned))
        severities = collector.by_severity.get(req.id, Counter())
        entry: dict[str, Any] = {
            "id": req.id,
            "title": req.title,
            "level": str(req.level),
            "domain": req.domain,
            "status": status,
            "numerator": measure.numerator if measure else 0,
            "denominator": measure.denominator if measure else 0,
            "rate": None if rate is None else round(rate, 6),
            "threshold": threshold,
            "findings": {
                "error": severities.get("error", 0),
                "warning": severities.get("warning", 0),
                "information": severities.get("information", 0),
            },
            "codes": dict(sorted(collector.by_code.get(req.id, Counter()).items())),
        }
        if measure is not None and measure.note:
            entry["note"] = measure.note
        if req.id in crashes:
            entry["check_errors"] = crashes[req.id]
        if req.origin and req.origin != standard.ref:
            entry["origin"] = req.origin
        requirements.append(entry)

    must_unmet = [r["id"] for r in requirements if r["level"] == "MUST" and r["status"] in NOT_MET]
    should_unmet = [
        r["id"] for r in requirements if r["level"] == "SHOULD" and r["status"] in NOT_MET
    ]
    if not complete:
        verdict = Verdict.INCOMPLETE
    elif must_unmet:
        verdict = Verdict.NOT_CONFORMANT
    elif should_unmet:
        verdict = Verdict.CONFORMANT_WITH_WARNINGS
    else:
        verdict = Verdict.CONFORMANT
    score = overall_score(
        weighted_mean(credits),
        every_must_met=not must_unmet,
        complete=complete,
        records_validated=int(counts["records_validated"]),
    )

    domains = []
    for domain_id, items in by_domain.items():
        domains.append(
            {
                "id": domain_id,
                "title": standard.domain_title(domain_id),
                "score": domain_score(weighted_mean((r.level, c) for r, _, c in items)),
                "requirements": len(items),
                "passed": sum(1 for _, s, _ in items if s == "pass"),
                "not_met": sum(1 for _, s, _ in items if s in NOT_MET),
                "not_applicable": sum(1 for _, s, _ in items if s == "not-applicable"),
            }
        )

    kept = collector.all_kept(order=_finding_order)
    extra_reqs = sorted(set(collector.by_severity) - {r.id for r in standard.requirements})
    input_problems = {
        req: dict(collector.by_code[req]) for req in extra_reqs if collector.total(req)
    }
    total_findings = sum(collector.total(req) for req in collector.by_severity)
    summary = {
        level.value.lower(): {
            "total": sum(1 for r in requirements if r["level"] == level.value),
            "met": sum(
                1 for r in requirements if r["level"] == level.value and r["status"] == "pass"
            ),
            "not_met": sum(
                1 for r in requirements if r["level"] == level.value and r["status"] in NOT_MET
            ),
        }
        for level in Level
    }
    data: dict[str, Any] = {
        "scorecard_version": SCORECARD_SCHEMA_VERSION,
        "tool": {"name": "conformance", "version": __version__, "hook_api": HOOK_API_VERSION},
        "standard": {
            "id": standard.id,
            "version": standard.version,
            "title": standard.title,
            "status": standard.status,
        },
        "feed": feed.to_dict(),
        "verdict": str(verdict),
        "score": score,
        "complete": complete,
        "summary": summary,
        "counts": {**counts, "files": len(inputs), "findings": total_findings},
        "inputs": [i.to_dict() for i in inputs],
        "domains": domains,
        "requirements": requirements,
        "findings": [f.to_dict() for f in kept],
        "findings_kept_per_requirement": collector.cap,
        "plugins": {"failures": plugin_failures},
        "run": {"started": started_at, "duration_seconds": round(duration, 3)},
    }
    if input_problems:
        data["input_problems"] = input_problems
    if standard.extends:
        data["standard"]["extends"] = standard.extends
    # Every string leaves through the one privacy gate, whatever check or reader wrote it.
    return Scorecard(scorecard_data(scrub_tree(data)), kept)

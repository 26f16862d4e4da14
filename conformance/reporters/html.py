"""The HTML scorecard: one self-contained page for a board member or an analyst.

Verdict and score first, then domain scores and how the score is computed, then every
requirement with its rate against its threshold; each requirement opens (``<details>``)
to all the findings the scorecard kept for it, grouped by code with the exact count of
each code. A small inline script filters requirements and findings by text, severity and
level; without it the page works the same, unfiltered. Readable on a phone (tables become
cards below 640 px), printable to A4.

This module turns the canonical scorecard into a view (plain data, already ordered and
grouped); the markup is in ``templates/scorecard.html.j2``, which escapes every value.
Messages are the scorecard's, already masked: nothing here goes back to the feed.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from conformance.privacy import scrub
from conformance.reporters.base import RenderOptions
from conformance.reporters.common import (
    LEVEL_RANK,
    NOT_MET,
    SEVERITY_RANK,
    RequirementHelp,
    feed_period_label,
    feed_title,
    finding_count,
    findings_by_requirement,
    location_text,
    requirement_help,
)
from conformance.reporters.htmlkit import VERDICT_STATUS, Link, anchor, render_page
from conformance.scorecard.model import ScorecardData
from conformance.scorecard.score import score_explanation_paragraphs

SEVERITY_PLURAL: Final = {"error": "errors", "warning": "warnings"}
VERDICT_EXPLAINED: Final = {
    "Conformant": "Every MUST and SHOULD requirement is met.",
    "Conformant with warnings": "Every MUST is met; at least one SHOULD is not.",
    "Not conformant": "At least one MUST requirement is not met.",
    "Incomplete": "The run was interrupted: this scorecard is not a verdict.",
}


@dataclass(frozen=True, slots=True)
class FindingRow:
    """One kept finding as the page shows it (all text from the masked scorecard)."""

    severity: str
    where: str
    """``file:line row R entry[E]``."""
    expression: str | None
    message: str
    resource: str | None
    """``ResourceType/id`` when the scorecard names the resource."""


@dataclass(frozen=True, slots=True)
class CodeGroup:
    """The findings of one requirement with one code: the exact count and the examples kept."""

    requirement: str
    level: str
    code: str
    anchor: str
    count: int
    rows: list[FindingRow]

    @property
    def shown(self) -> int:
        return len(self.rows)

    @property
    def severities(self) -> list[str]:
        found = {row.severity for row in self.rows}
        return sorted(found, key=lambda s: SEVERITY_RANK.get(s, 3))

    @property
    def requirement_anchor(self) -> str:
        return anchor("req", self.requirement)


@dataclass(frozen=True, slots=True)
class RequirementView:
    req: dict[str, Any]
    anchor: str
    met: bool
    help: RequirementHelp | None
    total: int
    """Findings counted for the requirement (exact)."""
    by_severity: list[str]
    """``5 errors``, ``1 warning``: the exact counts, most severe first."""
    groups: list[CodeGroup]

    @property
    def kept(self) -> int:
        return sum(g.shown for g in self.groups)


def files_root(card: Mapping[str, Any]) -> str:
    """The folder every input is in (``sample_feeds/qop-failing``), or ``""``."""
    folders = [posixpath.dirname(str(i["file"])) for i in card.get("inputs") or []]
    try:
        return posixpath.commonpath(folders) if folders else ""
    except ValueError:  # absolute and relative paths mixed
        return ""


def finding_row(f: dict[str, Any], root: str = "") -> FindingRow:
    """``root``: a folder to name the finding's file relative to, when it is inside it."""
    loc = f.get("location") or {}
    file = str(loc.get("file", ""))
    if root and file.startswith(root + "/"):
        loc = {**loc, "file": file[len(root) + 1 :]}
    resource = None
    if f.get("resource_type"):
        resource = str(f["resource_type"])
        if f.get("resource_id"):
            resource += "/" + scrub(str(f["resource_id"]))
    return FindingRow(
        severity=str(f["severity"]),
        where=location_text(loc, with_expression=False),
        expression=loc.get("expression"),
        message=str(f["message"]),
        resource=resource,
    )


def code_groups(
    req: dict[str, Any], kept: Sequence[dict[str, Any]], root: str = ""
) -> list[CodeGroup]:
    """Every code counted for ``req`` (most frequent first) with its kept examples.

    Counts come from the requirement's exact per-code counts; a code seen only among the
    examples (a scorecard made elsewhere) counts its examples.
    """
    examples: dict[str, list[FindingRow]] = {}
    for f in kept:
        examples.setdefault(str(f["code"]), []).append(finding_row(f, root))
    counts = {str(code): int(n) for code, n in (req.get("codes") or {}).items()}
    for code, rows in examples.items():
        counts[code] = max(counts.get(code, 0), len(rows))
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [
        CodeGroup(
            requirement=str(req["id"]),
            level=str(req["level"]),
            code=code,
            anchor=anchor("code", str(req["id"]), code),
            count=n,
            rows=examples.get(code, []),
        )
        for code, n in ordered
        if n > 0
    ]


def _severity_counts(counts: dict[str, int]) -> list[str]:
    ordered = sorted(
        ((s, n) for s, n in counts.items() if n), key=lambda i: SEVERITY_RANK.get(i[0], 3)
    )
    return [f"{n:,} {s if n == 1 else SEVERITY_PLURAL.get(s, s)}" for s, n in ordered]


def requirement_views(card: Mapping[str, Any], root: str = "") -> list[RequirementView]:
    """Each requirement with its kept findings grouped by code (files relative to ``root``)."""
    helps = requirement_help(card)
    kept = findings_by_requirement(card)
    views = []
    for req in card["requirements"]:
        views.append(
            RequirementView(
                req=req,
                anchor=anchor("req", str(req["id"])),
                met=req["status"] not in NOT_MET,
                help=helps.get(req["id"]),
                total=finding_count(req),
                by_severity=_severity_counts(req.get("findings") or {}),
                groups=code_groups(req, kept.get(req["id"], []), root),
            )
        )
    return views


def code_overview(views: Sequence[RequirementView]) -> list[CodeGroup]:
    """All code groups of the scorecard, most severe first, then the most frequent."""
    groups = [g for v in views for g in v.groups]

    def key(g: CodeGroup) -> tuple[int, int, int, str, str]:
        worst = min((SEVERITY_RANK.get(s, 3) for s in g.severities), default=3)
        return (worst, LEVEL_RANK.get(g.level, 3), -g.count, g.requirement, g.code)

    return sorted(groups, key=key)


def _domain_view(d: dict[str, Any]) -> dict[str, Any]:
    score = d.get("score")
    if score is None:
        status = "not-applicable"
    elif d.get("not_met"):
        status = "partial" if score > 0 else "fail"
    else:
        status = "pass"
    return {
        "title": d["title"],
        "score": score,
        "status": status,
        "passed": d.get("passed", 0),
        "not_met": d.get("not_met", 0),
        "not_applicable": d.get("not_applicable", 0),
    }


def _feed_items(card: Mapping[str, Any]) -> list[tuple[str, str, str | None]]:
    """(label, value, note) for the feed's description list."""
    feed = card.get("feed") or {}
    std = card["standard"]
    items: list[tuple[str, str, str | None]] = []
    for key, label in (("id", "Feed"), ("ics", "ICS"), ("sender", "Sender")):
        if feed.get(key):
            items.append((label, str(feed[key]), None))
    if feed.get("period"):
        p = feed["period"]
        items.append(("Period", feed_period_label(card), f"({p.get('start')} to {p.get('end')})"))
    for key, label in (
        ("extracted", "Extracted"),
        ("environment", "Environment"),
        ("conforms_to", "Declares"),
        ("manifest", "Manifest"),
    ):
        if feed.get(key):
            items.append((label, str(feed[key]), None))
    if not feed:
        items.append(("Manifest", "none: the feed has no manifest.json", None))
    applied = f"{std['id']}@{std['version']}"
    items.append(("Standard applied", applied, f"({std['status']})" if std.get("status") else None))
    return items


def _stats(card: Mapping[str, Any]) -> list[tuple[str, str]]:
    summary = card.get("summary") or {}
    counts = card["counts"]
    must, should = summary.get("must") or {}, summary.get("should") or {}
    return [
        ("MUST met", f"{must.get('met', 0)} of {must.get('total', 0)}"),
        ("SHOULD met", f"{should.get('met', 0)} of {should.get('total', 0)}"),
        ("Records validated", f"{counts['records_validated']:,}"),
        ("Unparseable records", f"{counts['records_unparseable']:,}"),
        ("Findings", f"{counts.get('findings', 0):,}"),
        ("Files", f"{counts.get('files', 0):,}"),
    ]


def scorecard_context(card: Mapping[str, Any]) -> dict[str, Any]:
    """Everything ``scorecard.html.j2`` shows, from the canonical scorecard."""
    root = files_root(card)
    views = requirement_views(card, root)
    run = card.get("run") or {}
    input_problems = card.get("input_problems") or {}
    return {
        "card": card,
        "who": feed_title(card),
        "period": feed_period_label(card),
        "verdict_status": VERDICT_STATUS.get(card["verdict"], "error"),
        "verdict_explained": VERDICT_EXPLAINED.get(card["verdict"], ""),
        "stats": _stats(card),
        "domains": [_domain_view(d) for d in card["domains"]],
        "score_explanation": score_explanation_paragraphs(),
        "requirements": views,
        "files_root": root,
        "kept_per_requirement": card.get("findings_kept_per_requirement", "few"),
        "codes": code_overview(views),
        "total_findings": card["counts"].get("findings", 0),
        "feed_items": _feed_items(card),
        "by_type": sorted((card["counts"].get("by_resource_type") or {}).items()),
        "problems": {
            "interrupted": not card["complete"],
            "plugin_failures": (card.get("plugins") or {}).get("failures", []),
            "input_problems": [
                (rid, sorted(codes.items())) for rid, codes in sorted(input_problems.items())
            ],
        },
        "run_started": run.get("started", "?"),
        "run_seconds": float(run.get("duration_seconds", 0)),
    }


def render_scorecard(card: Mapping[str, Any], *, back: Link | None = None) -> str:
    """The scorecard page; ``back`` adds a link above the title (e.g. to the board pack)."""
    title = f"Scorecard {feed_title(card)} {feed_period_label(card)}: {card['verdict']}"
    return render_page(
        "scorecard.html.j2",
        title=title,
        css=("page.css", "scorecard.css"),
        script="filter.js",
        back=back,
        **scorecard_context(card),
    )


class HtmlReporter:
    name: ClassVar[str] = "html"
    description: ClassVar[str] = "self-contained HTML scorecard (phone, print to A4)"
    extension: ClassVar[str] = ".html"

    def render(self, scorecard: ScorecardData, options: RenderOptions) -> str:
        return render_scorecard(scorecard)

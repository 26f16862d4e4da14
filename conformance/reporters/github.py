"""GitHub Actions: workflow-command annotations plus a Markdown job summary.

GitHub shows at most 10 error and 10 warning (and 10 notice) annotations per step and 50
per job, so the annotations are capped (most severe and MUST first, interleaving
requirements) and the full list of kept findings goes into the job summary. When
``$GITHUB_STEP_SUMMARY`` names a file (as it does inside Actions) the summary is appended
to it and the rendering holds only the annotations; elsewhere the summary follows them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar, Final

from conformance.privacy import markdown_code, markdown_text
from conformance.reporters.base import RenderOptions
from conformance.reporters.common import feed_path, location_text, top_findings
from conformance.reporters.text import MarkdownReporter
from conformance.scorecard.model import ScorecardData

PER_KIND_LIMIT: Final = 10
"""Annotations of one kind GitHub shows per step."""
JOB_LIMIT: Final = 50
SUMMARY_LIMIT_BYTES: Final = 900 * 1024
"""GitHub accepts up to 1 MiB of summary per step; stay below it."""
COMMAND = {"error": "error", "warning": "warning", "information": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(f: Mapping[str, Any], card: Mapping[str, Any] | None = None) -> str:
    loc = f["location"]
    props: list[str] = []
    if "file" in loc:
        path = str(loc["file"]) if card is None else feed_path(card, str(loc["file"]))
        props.append(f"file={escape_property(path)}")
        if "line" in loc:
            props.append(f"line={int(loc['line'])}")
            if "column" in loc:
                props.append(f"col={int(loc['column'])}")
    title = f"{f['requirement']} {f['code']}"
    props.append(f"title={escape_property(title)}")
    message = f["message"]
    extras = []
    if "entry" in loc:
        extras.append(f"entry {loc['entry']}")
    if "row" in loc:
        extras.append(f"row {loc['row']}")
    if "expression" in loc:
        extras.append(str(loc["expression"]))
    if extras:
        message += f" ({', '.join(extras)})"
    return f"::{COMMAND.get(f['severity'], 'warning')} {','.join(props)}::{escape_data(message)}"


def _md(text: str) -> str:
    return markdown_text(text)  # no raw HTML, links or images from a feed


def job_summary(scorecard: ScorecardData, options: RenderOptions) -> str:
    """The Markdown summary: the scorecard table, then every kept finding (size-capped)."""
    head = MarkdownReporter().render(scorecard, options)
    findings = scorecard["findings"]
    total = scorecard["counts"].get("findings", len(findings))
    lines = [
        "",
        f"### All findings kept in the scorecard ({len(findings)} of {total})",
        "",
        "| Severity | Requirement | Code | Location | Message |",
        "| --- | --- | --- | --- | --- |",
    ]
    size = len(head.encode()) + sum(len(x) + 1 for x in lines)
    shown = 0
    for f in findings:
        row = (
            f"| {f['severity']} | `{f['requirement']}` | `{f['code']}` | "
            f"`{markdown_code(location_text(f['location']))}` | {_md(f['message'])} |"
        )
        size += len(row.encode()) + 1
        if size > SUMMARY_LIMIT_BYTES:
            break
        lines.append(row)
        shown += 1
    if shown < len(findings):
        lines += [
            "",
            f"{len(findings) - shown} more findings are not listed (summary size limit); "
            "render the scorecard as CSV for all of them.",
        ]
    if not findings:
        lines = []
    return head + "\n".join(lines) + ("\n" if lines else "")


class GitHubReporter:
    name: ClassVar[str] = "github"
    description: ClassVar[str] = (
        "GitHub Actions annotations (capped) and a job summary ($GITHUB_STEP_SUMMARY)"
    )
    extension: ClassVar[str] = ".txt"

    def render(self, scorecard: ScorecardData, options: RenderOptions) -> str:
        used = {"error": 0, "warning": 0, "notice": 0}
        out: list[str] = []
        ordered = top_findings(scorecard, None)
        skipped = 0
        for f in ordered:
            kind = COMMAND.get(f["severity"], "warning")
            if used[kind] >= PER_KIND_LIMIT or sum(used.values()) >= JOB_LIMIT - 1:
                skipped += 1
                continue
            if kind == "notice" and used[kind] >= PER_KIND_LIMIT - 1:
                skipped += 1  # keep the last notice slot for the overflow message
                continue
            used[kind] += 1
            out.append(annotation(f, scorecard))
        total = int(scorecard["counts"].get("findings", len(ordered)))
        not_annotated = skipped + max(0, total - len(ordered))
        verdict = scorecard["verdict"]
        title = escape_property(f"{verdict}: score {scorecard['score']:.1f}")
        summary_note = (
            f"{not_annotated} more findings are not annotated (GitHub shows at most "
            f"{PER_KIND_LIMIT} of each kind per step); see the job summary"
            if not_annotated
            else "every finding is annotated; the job summary has the scorecard"
        )
        out.append(f"::notice title={title}::{escape_data(summary_note)}")
        summary = job_summary(scorecard, options)
        target = os.environ.get("GITHUB_STEP_SUMMARY")
        if target:
            try:
                with open(target, "a", encoding="utf-8") as handle:
                    handle.write(summary)
            except OSError:
                out.append("::warning::could not write the job summary to $GITHUB_STEP_SUMMARY")
            return "\n".join(out) + "\n"
        return "\n".join(out) + "\n\n" + summary

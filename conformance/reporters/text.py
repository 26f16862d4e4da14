"""Human-readable renderings: the terminal summary and Markdown for a pull-request comment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import orjson

from conformance.privacy import markdown_code, markdown_text
from conformance.reporters.base import RenderOptions
from conformance.reporters.common import LEVEL_RANK, SEVERITY_RANK, finding_count, location_text
from conformance.scorecard.model import ScorecardData

STATUS_MARK = {
    "pass": "PASS",
    "fail": "FAIL",
    "partial": "PART",
    "not-applicable": "N/A ",
    "error": "ERR ",
}
_ANSI = {"pass": "32", "fail": "31", "partial": "33", "not-applicable": "90", "error": "35"}


def _rate(req: Mapping[str, Any]) -> str:
    rate = req["rate"]
    return "-" if rate is None else f"{100.0 * rate:.1f}%"


def _location(loc: Mapping[str, Any]) -> str:
    return location_text(loc)


def _counts_line(card: Mapping[str, Any]) -> str:
    c = card["counts"]
    return (
        f"{c['records_read']} records read, {c['records_validated']} validated, "
        f"{c['records_unparseable']} unparseable, in {c.get('files', 0)} file(s)"
    )


def _feed_line(card: Mapping[str, Any]) -> str:
    feed = card["feed"]
    parts = []
    for key, label in (("id", "feed"), ("ics", "ICS"), ("sender", "sender")):
        if key in feed:
            parts.append(f"{label} {feed[key]}")
    if "period" in feed:
        parts.append(f"period {feed['period'].get('start')} to {feed['period'].get('end')}")
    return ", ".join(parts) or "no manifest"


EXAMPLES_PER_CODE = 3


def code_groups(scorecard: Mapping[str, Any]) -> list[tuple[str, str, int, list[dict[str, Any]]]]:
    """``(requirement, code, count, kept examples)`` for every code found, most severe
    first (then MUST before SHOULD, then the most frequent). Counts are exact; examples
    are the findings the scorecard kept."""
    examples: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for f in scorecard["findings"]:
        examples.setdefault((f["requirement"], f["code"]), []).append(f)
    counts: dict[tuple[str, str], int] = {}
    levels: dict[str, int] = {}
    for req in scorecard["requirements"]:
        levels[req["id"]] = LEVEL_RANK.get(req["level"], 3)
        for code, n in (req.get("codes") or {}).items():
            counts[(req["id"], code)] = int(n)
    for rid, codes in (scorecard.get("input_problems") or {}).items():
        for code, n in codes.items():
            counts[(rid, code)] = int(n)
    for key, kept in examples.items():
        counts[key] = max(counts.get(key, 0), len(kept))

    def order(key: tuple[str, str]) -> tuple[int, int, int, str, str]:
        kept = examples.get(key)
        severity = SEVERITY_RANK.get(kept[0]["severity"], 3) if kept else 3
        return (severity, levels.get(key[0], 3), -counts[key], key[0], key[1])

    return [(r, c, counts[(r, c)], examples.get((r, c), [])) for r, c in sorted(counts, key=order)]


def _findings_by_code(scorecard: Mapping[str, Any], options: RenderOptions) -> list[str]:
    """Findings grouped by code, with exact counts and a few example places each."""
    groups = [g for g in code_groups(scorecard) if g[2] > 0]
    if not groups:
        return []
    total = scorecard["counts"].get("findings", sum(g[2] for g in groups))
    shown = groups[: options.top_findings]
    head = f"Findings by code ({len(groups)} codes, {total} findings"
    head += f"; the first {len(shown)} codes):" if len(shown) < len(groups) else "):"
    lines = ["", head, f"  {'COUNT':>6}  {'SEVERITY':<11} {'REQUIREMENT':<13} CODE"]
    for rid, code, count, kept in shown:
        severity = kept[0]["severity"] if kept else "-"
        lines.append(f"  {count:>6}  {severity:<11} {rid:<13} {code}")
        if not kept:
            continue
        first = kept[0]
        message = first["message"]
        if options.show_values:
            message = first.get("message_unmasked", message)
        lines.append(f"          {message}")
        examples = kept[:EXAMPLES_PER_CODE]
        more = count - len(examples)
        where = _places(examples) + (f" (+{more} more)" if more > 0 else "")
        expression = first["location"].get("expression")
        lines.append(f"          at {where}" + (f"  {expression}" if expression else ""))
    return lines


def _places(findings: list[dict[str, Any]]) -> str:
    """``a.ndjson:5, 18; b.ndjson:3``: the examples' places, each file named once."""
    by_file: dict[str, list[str]] = {}
    for f in findings:
        loc = {k: v for k, v in f["location"].items() if k != "expression"}
        file = str(loc.pop("file", "<feed>"))
        rest = location_text(loc, with_expression=False).removeprefix("<feed>")
        by_file.setdefault(file, []).append(rest.removeprefix(":").strip())
    return "; ".join(
        file + (":" + ", ".join(p for p in parts if p) if any(parts) else "")
        for file, parts in by_file.items()
    )


class TerminalReporter:
    name: ClassVar[str] = "terminal"
    description: ClassVar[str] = "summary table and top findings for a terminal"
    extension: ClassVar[str] = ".txt"

    def render(self, scorecard: ScorecardData, options: RenderOptions) -> str:
        color = options.color

        def paint(text: str, status: str) -> str:
            return f"\x1b[{_ANSI[status]}m{text}\x1b[0m" if color else text

        std = scorecard["standard"]
        lines = [
            f"Standard  {std['id']}@{std['version']}  {std.get('title', '')}".rstrip(),
            f"Feed      {_feed_line(scorecard)}",
            *([f"Root      {scorecard['feed']['root']}"] if "root" in scorecard["feed"] else []),
            f"Records   {_counts_line(scorecard)}",
            "",
            f"{'STATUS':6} {'ID':13} {'LEVEL':6} {'RATE':>7} {'NEED':>6} {'FINDINGS':>8}  TITLE",
        ]
        title_width = max(20, options.width - 52)
        for req in scorecard["requirements"]:
            found = finding_count(req)
            title = req["title"]
            if len(title) > title_width:
                title = title[: title_width - 1] + "…"
            lines.append(
                f"{paint(STATUS_MARK[req['status']], req['status']):6} {req['id']:13} "
                f"{req['level']:6} {_rate(req):>7} {100.0 * req['threshold']:>5.0f}% "
                f"{found:>8}  {title}"
            )
        lines += _findings_by_code(scorecard, options)
        failures = scorecard.get("plugins", {}).get("failures", [])
        for failure in failures:
            lines.append(
                f"Plugin {failure['plugin']} failed in {failure['hook']}: {failure['error']}"
            )
        lines += [
            "",
            f"Score     {scorecard['score']:.1f} / 100",
            f"Verdict   {scorecard['verdict']}"
            + ("" if scorecard["complete"] else " (run interrupted)"),
        ]
        return "\n".join(lines) + "\n"


class JsonReporter:
    name: ClassVar[str] = "json"
    description: ClassVar[str] = (
        "the canonical JSON scorecard (validates against the shipped schema)"
    )
    extension: ClassVar[str] = ".json"

    def render(self, scorecard: ScorecardData, options: RenderOptions) -> str:
        return orjson.dumps(scorecard, option=orjson.OPT_INDENT_2).decode() + "\n"


def _md_escape(text: str) -> str:
    return markdown_text(text)  # no raw HTML, links or images from a feed


class MarkdownReporter:
    name: ClassVar[str] = "markdown"
    description: ClassVar[str] = "Markdown for a pull-request comment or a CI job summary"
    extension: ClassVar[str] = ".md"

    def render(self, scorecard: ScorecardData, options: RenderOptions) -> str:
        std = scorecard["standard"]
        verdict = scorecard["verdict"]
        icon = {"Conformant": "✅", "Conformant with warnings": "⚠️"}.get(verdict, "❌")
        out = [
            f"## {icon} {verdict}: score {scorecard['score']:.1f} / 100",
            "",
            f"Standard **{std['id']}@{std['version']}** ({_md_escape(std.get('title', ''))}). "
            f"Feed: {_md_escape(_feed_line(scorecard))}. {_counts_line(scorecard)}.",
            "",
            "| Status | Requirement | Level | Rate | Threshold | Findings | Title |",
            "| --- | --- | --- | ---: | ---: | ---: | --- |",
        ]
        for req in scorecard["requirements"]:
            out.append(
                f"| {req['status']} | `{req['id']}` | {req['level']} | {_rate(req)} | "
                f"{100.0 * req['threshold']:.0f}% | {finding_count(req)} | "
                f"{_md_escape(req['title'])} |"
            )
        findings = scorecard["findings"][: options.top_findings]
        if findings:
            out += [
                "",
                "<details><summary>Top findings</summary>",
                "",
                "| Severity | Requirement | Code | Location | Message |",
                "| --- | --- | --- | --- | --- |",
            ]
            for f in findings:
                out.append(
                    f"| {f['severity']} | `{f['requirement']}` | `{f['code']}` | "
                    f"`{markdown_code(_location(f['location']))}` | {_md_escape(f['message'])} |"
                )
            out += ["", "</details>"]
        return "\n".join(out) + "\n"

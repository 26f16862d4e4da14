"""Human-readable renderings: the terminal summary and Markdown for a pull-request comment."""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from conformance.privacy import markdown_code, markdown_text
from conformance.reporters.base import RenderOptions
from conformance.reporters.common import location_text

STATUS_MARK = {
    "pass": "PASS",
    "fail": "FAIL",
    "partial": "PART",
    "not-applicable": "N/A ",
    "error": "ERR ",
}
_ANSI = {"pass": "32", "fail": "31", "partial": "33", "not-applicable": "90", "error": "35"}


def _rate(req: dict[str, Any]) -> str:
    rate = req["rate"]
    return "-" if rate is None else f"{100.0 * rate:.1f}%"


def _location(loc: dict[str, Any]) -> str:
    return location_text(loc)


def _counts_line(card: dict[str, Any]) -> str:
    c = card["counts"]
    return (
        f"{c['records_read']} records read, {c['records_validated']} validated, "
        f"{c['records_unparseable']} unparseable, in {c.get('files', 0)} file(s)"
    )


def _feed_line(card: dict[str, Any]) -> str:
    feed = card["feed"]
    parts = []
    for key, label in (("id", "feed"), ("ics", "ICS"), ("sender", "sender")):
        if key in feed:
            parts.append(f"{label} {feed[key]}")
    if "period" in feed:
        parts.append(f"period {feed['period'].get('start')} to {feed['period'].get('end')}")
    return ", ".join(parts) or "no manifest"


class TerminalReporter:
    name: ClassVar[str] = "terminal"
    description: ClassVar[str] = "summary table and top findings for a terminal"
    extension: ClassVar[str] = ".txt"

    def render(self, scorecard: dict[str, Any], options: RenderOptions) -> str:
        color = options.color

        def paint(text: str, status: str) -> str:
            return f"\x1b[{_ANSI[status]}m{text}\x1b[0m" if color else text

        std = scorecard["standard"]
        lines = [
            f"Standard  {std['id']}@{std['version']}  {std.get('title', '')}".rstrip(),
            f"Feed      {_feed_line(scorecard)}",
            f"Records   {_counts_line(scorecard)}",
            "",
            f"{'STATUS':6} {'ID':13} {'LEVEL':6} {'RATE':>7} {'NEED':>6} {'FINDINGS':>8}  TITLE",
        ]
        title_width = max(20, options.width - 52)
        for req in scorecard["requirements"]:
            found = sum(req["findings"].values())
            title = req["title"]
            if len(title) > title_width:
                title = title[: title_width - 1] + "…"
            lines.append(
                f"{paint(STATUS_MARK[req['status']], req['status']):6} {req['id']:13} "
                f"{req['level']:6} {_rate(req):>7} {100.0 * req['threshold']:>5.0f}% "
                f"{found:>8}  {title}"
            )
        findings = scorecard["findings"]
        if findings:
            shown = sorted(
                findings, key=lambda f: ["error", "warning", "information"].index(f["severity"])
            )[: options.top_findings]
            lines += ["", f"Top findings ({len(shown)} of {scorecard['counts'].get('findings')}):"]
            for f in shown:
                message = (
                    f.get("message_unmasked", f["message"]) if options.show_values else f["message"]
                )
                lines.append(
                    f"  {f['severity']:<11} {f['requirement']:<13} {_location(f['location'])}"
                )
                lines.append(f"              {f['code']}: {message}")
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

    def render(self, scorecard: dict[str, Any], options: RenderOptions) -> str:
        return orjson.dumps(scorecard, option=orjson.OPT_INDENT_2).decode() + "\n"


def _md_escape(text: str) -> str:
    return markdown_text(text)  # no raw HTML, links or images from a feed


class MarkdownReporter:
    name: ClassVar[str] = "markdown"
    description: ClassVar[str] = "Markdown for a pull-request comment or a CI job summary"
    extension: ClassVar[str] = ".md"

    def render(self, scorecard: dict[str, Any], options: RenderOptions) -> str:
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
                f"{100.0 * req['threshold']:.0f}% | {sum(req['findings'].values())} | "
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

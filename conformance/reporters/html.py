"""The HTML scorecard: one self-contained page for a board member or an analyst.

Verdict and score first, then domain scores, every requirement with its rate against its
threshold, the top findings with their (masked) locations, and what the feed's manifest
says. Readable on a phone (tables become cards below 640 px), printable to A4.
"""

from __future__ import annotations

from typing import Any, ClassVar

from conformance.reporters.base import RenderOptions
from conformance.reporters.common import (
    NOT_MET,
    feed_period_label,
    feed_title,
    finding_count,
    location_text,
    percent,
    requirement_help,
    threshold_text,
    top_findings,
)
from conformance.reporters.htmlkit import (
    VERDICT_STATUS,
    esc,
    gauge,
    page,
    rate_bar,
    status_badge,
    verdict_badge,
)

EXTRA_CSS = """
.hero{display:flex;flex-wrap:wrap;gap:16px;align-items:center}
.hero .verdict{flex:1 1 260px}
.hero .verdict p{margin:8px 0 0}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(128px,1fr));gap:10px;
margin:16px 0 0;padding:0}
.stats div{background:var(--soft);border-radius:6px;padding:8px 12px}
.stats dt{font-size:.85rem;color:var(--muted)}
.stats dd{margin:0;font-size:1.3rem;font-weight:700}
.ratecell{min-width:170px}
td.loc{min-width:16rem}
.ratecell .figures{display:flex;justify-content:space-between;gap:8px;font-size:.9rem}
td .title{display:block}
td .note{display:block;color:var(--muted);font-size:.875rem}
details.why{font-size:.875rem;margin-top:4px}
details.why summary{cursor:pointer;color:var(--band)}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dl.meta dt{font-weight:600}
dl.meta dd{margin:0;overflow-wrap:anywhere}
.legend{font-size:.875rem;color:var(--muted);margin:8px 0 0}
.alert{border-left:6px solid var(--fail);background:#fdecee}
@media (max-width:640px){
 dl.meta{grid-template-columns:1fr}
 dl.meta dd{margin:0 0 6px}
 .ratecell{min-width:0}
 td.loc{min-width:0}
 table.reqs tr{display:flex;flex-wrap:wrap;align-items:center}
 table.reqs td{flex:1 1 100%}
 table.reqs td.inl{flex:0 0 auto}
 table.reqs td.phone-last{order:5;flex:1 1 100%}
 table.reqs td.ratecell{order:6}
 table.reqs td.num{order:7}
}
@media print{.stats{grid-template-columns:repeat(6,1fr)}
 .stats div{background:#fff;border:1px solid var(--line);padding:4px 8px}
 .stats dd{font-size:1.1rem}
 .hero svg{width:96px;height:96px}
 .alert{background:#fff}}
"""


def _stat(label: str, value: str) -> str:
    return f"<div><dt>{esc(label)}</dt><dd>{value}</dd></div>"


def _summary(card: dict[str, Any]) -> str:
    verdict = card["verdict"]
    status = VERDICT_STATUS.get(verdict, "error")
    summary = card.get("summary", {})
    counts = card["counts"]
    std = card["standard"]
    must = summary.get("must", {})
    should = summary.get("should", {})
    explain = {
        "Conformant": "Every MUST and SHOULD requirement is met.",
        "Conformant with warnings": "Every MUST is met; at least one SHOULD is not.",
        "Not conformant": "At least one MUST requirement is not met.",
        "Incomplete": "The run was interrupted: this scorecard is not a verdict.",
    }.get(verdict, "")
    stats = [
        _stat("MUST met", f"{must.get('met', 0)} of {must.get('total', 0)}"),
        _stat("SHOULD met", f"{should.get('met', 0)} of {should.get('total', 0)}"),
        _stat("Records validated", f"{counts['records_validated']:,}"),
        _stat("Unparseable records", f"{counts['records_unparseable']:,}"),
        _stat("Findings", f"{counts.get('findings', 0):,}"),
        _stat("Files", f"{counts.get('files', 0):,}"),
    ]
    return (
        '<section aria-labelledby="h-summary" class="keep">'
        '<h2 id="h-summary">Result</h2><div class="hero">'
        + gauge(card["score"], status, f"Interoperability score {card['score']:.1f} out of 100")
        + '<div class="verdict"><div>'
        + verdict_badge(verdict, big=True)
        + f"</div><p><strong>Score {card['score']:.1f} / 100.</strong> {esc(explain)}</p>"
        f'<p class="muted">Standard {esc(std["id"])}@{esc(std["version"])}'
        f"{' (' + esc(std['title']) + ')' if std.get('title') else ''}.</p></div></div>"
        f'<dl class="stats">{"".join(stats)}</dl></section>'
    )


def _domains(card: dict[str, Any]) -> str:
    rows = []
    for d in card["domains"]:
        score = d.get("score")
        if score is None:
            status = "not-applicable"
        elif d.get("not_met"):
            status = "partial" if score > 0 else "fail"
        else:
            status = "pass"
        shown = "&ndash;" if score is None else f"{score:.1f}"
        rows.append(
            f'<tr><th scope="row">{esc(d["title"])}</th>'
            f'<td class="ratecell" data-label="Score"><div class="figures"><span>{shown}</span>'
            f"</div>{rate_bar(None if score is None else score / 100.0, None, status)}</td>"
            f'<td class="num" data-label="Met">{d.get("passed", 0)}</td>'
            f'<td class="num" data-label="Not met">{d.get("not_met", 0)}</td>'
            f'<td class="num" data-label="Not applicable">{d.get("not_applicable", 0)}</td></tr>'
        )
    return (
        '<section aria-labelledby="h-domains"><h2 id="h-domains">Scores by domain</h2>'
        '<table class="cards"><thead><tr><th scope="col">Domain</th><th scope="col">Score '
        '(0&ndash;100)</th><th scope="col" class="num">Met</th>'
        '<th scope="col" class="num">Not met</th><th scope="col" class="num">Not applicable'
        "</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></section>"
    )


def _requirements(card: dict[str, Any]) -> str:
    helps = requirement_help(card)
    rows = []
    for req in card["requirements"]:
        status = req["status"]
        help_text = helps.get(req["id"])
        note = f'<span class="note">{esc(req["note"])}</span>' if req.get("note") else ""
        why = ""
        if help_text is not None and status in NOT_MET:
            measure = (
                f"<br><strong>Measure:</strong> {esc(help_text.measure)}"
                if help_text.measure
                else ""
            )
            why = (
                '<details class="why"><summary>Why it matters</summary>'
                f"{esc(help_text.rationale)}{measure}</details>"
            )
        rate = req["rate"]
        figures = (
            f'{percent(rate)} <span class="muted">need {threshold_text(req["threshold"])}</span>'
        )
        counted = (
            f'<span class="note">{req["numerator"]:,} of {req["denominator"]:,}</span>'
            if req["denominator"]
            else ""
        )
        rows.append(
            f'<tr id="req-{esc(req["id"])}"><td class="inl">{status_badge(status)}</td>'
            f'<td class="inl phone-last"><code>{esc(req["id"])}</code>'
            f'<span class="title">{esc(req["title"])}</span>{note}{why}</td>'
            f'<td class="inl level">{esc(req["level"])}</td>'
            f'<td class="ratecell"><div class="figures">{figures}</div>'
            f"{rate_bar(rate, req['threshold'], status)}{counted}</td>"
            f'<td class="num" data-label="Findings">{finding_count(req):,}</td></tr>'
        )
    return (
        '<section aria-labelledby="h-reqs"><h2 id="h-reqs">Requirements</h2>'
        '<p class="lead">Each requirement\'s rate is the share of records that meet it; '
        "it passes when the rate reaches its threshold (the black tick on the bar).</p>"
        '<table class="cards reqs"><thead><tr><th scope="col">Status</th><th scope="col">'
        'Requirement</th><th scope="col">Level</th><th scope="col">Rate against threshold'
        '</th><th scope="col" class="num">Findings</th></tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table>"
        '<p class="legend">Status: ✓ Pass (threshold reached), ◐ Partial (some records '
        "meet it, not enough), ✗ Fail, &ndash; Not applicable (nothing to measure). Partial and "
        "Fail both mean <em>not met</em>.</p></section>"
    )


def _findings(card: dict[str, Any], limit: int) -> str:
    shown = top_findings(card, limit)
    total = card["counts"].get("findings", 0)
    if not shown:
        return (
            '<section aria-labelledby="h-findings"><h2 id="h-findings">Top findings</h2>'
            "<p>No findings.</p></section>"
        )
    rows = []
    for f in shown:
        loc = f["location"]
        expr = (
            f'<br><code class="wrap">{esc(loc["expression"])}</code>' if "expression" in loc else ""
        )
        sev = {"error": "fail", "warning": "partial"}.get(f["severity"], "not-applicable")
        rows.append(
            f'<tr><td class="inl"><span class="t-{sev}"><strong>'
            f"{esc(f['severity'].capitalize())}</strong></span></td>"
            f'<td class="inl"><a href="#req-{esc(f["requirement"])}"><code>'
            f"{esc(f['requirement'])}</code></a></td>"
            f'<td data-label="At" class="wrap loc"><code>'
            f"{esc(location_text(loc, with_expression=False))}</code>{expr}</td>"
            f"<td><code>{esc(f['code'])}</code><br>"
            f"{esc(f['message'])}</td></tr>"
        )
    return (
        '<section aria-labelledby="h-findings"><h2 id="h-findings">Top findings</h2>'
        f'<p class="lead">{len(shown)} of {total:,} findings, most severe first, one '
        "requirement after another. Values from the feed are masked or described, never "
        "shown.</p>"
        '<table class="cards"><thead><tr><th scope="col">Severity</th><th scope="col">'
        'Requirement</th><th scope="col">Location</th><th scope="col">Problem</th></tr>'
        "</thead><tbody>" + "".join(rows) + "</tbody></table></section>"
    )


def _feed(card: dict[str, Any]) -> str:
    feed = card.get("feed", {})
    std = card["standard"]
    items: list[tuple[str, str]] = []
    for key, label in (
        ("id", "Feed"),
        ("ics", "ICS"),
        ("sender", "Sender"),
    ):
        if feed.get(key):
            items.append((label, esc(feed[key])))
    if feed.get("period"):
        p = feed["period"]
        items.append(
            (
                "Period",
                f"{esc(feed_period_label(card))} "
                f'<span class="muted">({esc(p.get("start"))} to {esc(p.get("end"))})</span>',
            )
        )
    for key, label in (
        ("extracted", "Extracted"),
        ("environment", "Environment"),
        ("conforms_to", "Declares"),
        ("manifest", "Manifest"),
    ):
        if feed.get(key):
            items.append((label, esc(feed[key])))
    if not feed:
        items.append(("Manifest", "none: the feed has no manifest.json"))
    items.append(
        (
            "Standard applied",
            f"{esc(std['id'])}@{esc(std['version'])}"
            + (f" ({esc(std['status'])})" if std.get("status") else ""),
        )
    )
    meta = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in items)
    rows = []
    for i in card["inputs"]:
        sha = i.get("sha256")
        rows.append(
            f'<tr><td data-label="File" class="wrap"><code>{esc(i["file"])}</code></td>'
            f'<td data-label="Format">{esc(i.get("format") or "-")}</td>'
            f'<td class="num" data-label="Read">{i["records_read"]:,}</td>'
            f'<td class="num" data-label="Unparseable">{i["records_unparseable"]:,}</td>'
            f'<td data-label="SHA-256"><code title="{esc(sha or "")}">'
            f"{esc(sha[:12]) + '…' if sha else '&ndash;'}</code></td></tr>"
        )
    inputs = (
        '<h3 id="h-inputs">Inputs</h3><table class="cards"><thead><tr>'
        '<th scope="col">File</th><th scope="col">Format</th><th scope="col" class="num">Read'
        '</th><th scope="col" class="num">Unparseable</th><th scope="col">SHA-256</th>'
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        if rows
        else ""
    )
    by_type = card["counts"].get("by_resource_type") or {}
    types = ""
    if by_type:
        types = (
            '<p class="muted">Records by type: '
            + ", ".join(f"{esc(k)} {v:,}" for k, v in sorted(by_type.items()))
            + ".</p>"
        )
    return (
        '<section aria-labelledby="h-feed"><h2 id="h-feed">Feed</h2>'
        f'<dl class="meta">{meta}</dl>{types}{inputs}</section>'
    )


def _problems(card: dict[str, Any]) -> str:
    parts: list[str] = []
    if not card["complete"]:
        parts.append(
            "<p><strong>The run was interrupted.</strong> Counts cover only what was read "
            "before it stopped; this scorecard is not a verdict on the feed.</p>"
        )
    for failure in card.get("plugins", {}).get("failures", []):
        parts.append(
            f"<p>Plugin <code>{esc(failure.get('plugin', '?'))}</code> failed in "
            f"<code>{esc(failure.get('hook', '?'))}</code>: {esc(failure.get('error', ''))}</p>"
        )
    for req_id, codes in sorted((card.get("input_problems") or {}).items()):
        listed = ", ".join(f"{esc(c)} ({n})" for c, n in sorted(codes.items()))
        parts.append(f"<p>Input problems counted under <code>{esc(req_id)}</code>: {listed}</p>")
    if not parts:
        return ""
    return (
        '<section class="alert" aria-labelledby="h-problems">'
        '<h2 id="h-problems">Problems with this run</h2>' + "".join(parts) + "</section>"
    )


class HtmlReporter:
    name: ClassVar[str] = "html"
    description: ClassVar[str] = "self-contained HTML scorecard (phone, print to A4)"
    extension: ClassVar[str] = ".html"

    def render(self, scorecard: dict[str, Any], options: RenderOptions) -> str:
        std = scorecard["standard"]
        who = feed_title(scorecard)
        period = feed_period_label(scorecard)
        header = (
            f"<h1>Interoperability scorecard: {esc(who)}</h1>"
            f"<p>{esc(period)} · {esc(std['id'].upper())} {esc(std['version'])} · "
            f"{esc(scorecard['verdict'])}, score {scorecard['score']:.1f}</p>"
        )
        run = scorecard.get("run", {})
        tool = scorecard["tool"]
        footer = (
            f"<footer><p>Made by {esc(tool['name'])} {esc(tool['version'])} from the canonical "
            f"JSON scorecard (version {esc(scorecard['scorecard_version'])}). Run started "
            f"{esc(run.get('started', '?'))}, took {float(run.get('duration_seconds', 0)):.1f} s."
            " No patient identifier or free text from the feed appears in this report.</p>"
            "</footer>"
        )
        body = [
            _problems(scorecard),
            _summary(scorecard),
            _domains(scorecard),
            _requirements(scorecard),
            _findings(scorecard, options.top_findings),
            _feed(scorecard),
            footer,
        ]
        title = f"Scorecard {who} {period}: {scorecard['verdict']}"
        return page(title, header, [b for b in body if b], EXTRA_CSS)

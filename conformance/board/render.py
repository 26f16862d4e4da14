"""Render the board pack: HTML (league table, heatmap, national rates), CSV or JSON."""

from __future__ import annotations

import csv
import io
from typing import Any, Final

import orjson

from conformance.reporters.common import STATUS_LABEL, STATUS_SYMBOL, percent
from conformance.reporters.htmlkit import (
    STATUS_COLOUR,
    esc,
    page,
    rate_bar,
    sparkline,
    verdict_badge,
)

FORMATS: Final = ("html", "csv", "json")
LEAGUE_COLUMNS: Final = (
    "rank",
    "ics",
    "sender",
    "period_start",
    "period_end",
    "standard",
    "verdict",
    "score",
    "must_not_met",
    "should_not_met",
    "previous_score",
    "change",
    "feed",
)


def render_json(board: dict[str, Any]) -> str:
    return orjson.dumps(board, option=orjson.OPT_INDENT_2).decode() + "\n"


def render_csv(board: dict[str, Any]) -> str:
    """The league table, one row per ICS and sender."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LEAGUE_COLUMNS)
    for row in board["league"]:
        values = {
            **row,
            "period_start": row["period"]["start"],
            "period_end": row["period"]["end"],
            "score": f"{row['score']:.1f}",
            "previous_score": ""
            if row["previous_score"] is None
            else f"{row['previous_score']:.1f}",
            "change": "" if row["change"] is None else f"{row['change']:+.1f}",
        }
        writer.writerow(["" if values.get(c) is None else str(values[c]) for c in LEAGUE_COLUMNS])
    return out.getvalue()


BOARD_CSS: Final = """
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:10px;margin:0}
.kpis div{background:var(--soft);border-radius:6px;padding:8px 12px}
.kpis dt{font-size:.85rem;color:var(--muted)}
.kpis dd{margin:0;font-size:1.3rem;font-weight:700}
.up{color:var(--pass)}.down{color:var(--fail)}.flat{color:var(--muted)}
.up,.down,.flat{white-space:nowrap}
table.heat{width:auto;border-collapse:separate;border-spacing:2px}
table.heat th,table.heat td{border:0;padding:0}
table.heat thead th{background:none;vertical-align:bottom;height:auto;padding:0 0 4px}
table.heat thead th span{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;
font-size:.8rem;font-family:ui-monospace,Menlo,Consolas,monospace;display:inline-block}
table.heat tbody th{padding:0 8px 0 0;white-space:nowrap;font-size:.9rem}
table.heat td{position:relative;width:21px;height:21px;min-width:21px;text-align:center;
color:#fff;font-weight:700;
font-size:.8rem;border-radius:3px;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.h-pass{background:var(--pass)}.h-partial{background:var(--partial)}.h-fail{background:var(--fail)}
.h-not-applicable{background:var(--na)}.h-error{background:var(--err)}
.h-none{background:#fff;color:var(--muted)!important;border:1px dashed var(--line)}
.legend{display:flex;flex-wrap:wrap;gap:6px 14px;font-size:.875rem;margin:10px 0 0;padding:0;
list-style:none}
.legend .sw{display:inline-block;width:18px;height:18px;border-radius:3px;color:#fff;
text-align:center;font-weight:700;font-size:.75rem;line-height:18px;margin-right:4px;
-webkit-print-color-adjust:exact;print-color-adjust:exact}
.ratecell{min-width:150px}
.ratecell .figures{display:flex;justify-content:space-between;gap:8px;font-size:.9rem}
@media (max-width:640px){table.league td.spark svg{display:inline-block;vertical-align:middle}
 table.league td.inl::after{content:"."}}
@media print{.kpis div{background:#fff;border:1px solid var(--line)}
 section.heatmap{break-inside:avoid}
 table.heat{border-spacing:1px}
 table.heat td{width:14px;height:14px;min-width:14px;font-size:7pt;border-radius:2px}
 table.heat thead th span{font-size:7pt}
 table.heat tbody th{font-size:8pt;padding-right:4px}
 td.spark svg{width:72px}}
"""


def _change(value: float | None, unit: str = "", digits: int = 1, scale: float = 1.0) -> str:
    if value is None:
        return '<span class="flat">new</span>'
    shown = value * scale
    if round(shown, digits) == 0:
        return '<span class="flat"><span aria-hidden="true">■</span> no change</span>'
    if shown > 0:
        return (
            f'<span class="up"><span aria-hidden="true">▲</span> up {shown:.{digits}f}{unit}</span>'
        )
    return (
        f'<span class="down"><span aria-hidden="true">▼</span> down {-shown:.{digits}f}{unit}'
        "</span>"
    )


def _kpis(board: dict[str, Any]) -> str:
    league = board["league"]
    current = [r for r in league if r["current"]]
    conformant = sum(
        1 for r in current if r["verdict"] in ("Conformant", "Conformant with warnings")
    )
    scores = [r["score"] for r in current]
    mean = sum(scores) / len(scores) if scores else None
    items = [
        ("Submitting units", f"{board['units']}"),
        ("Submitted this period", f"{len(current)} of {board['units']}"),
        ("Meeting every MUST", f"{conformant} of {len(current)}"),
        ("Mean score", "&ndash;" if mean is None else f"{mean:.1f}"),
        ("Periods covered", f"{len(board['periods'])}"),
    ]
    cells = "".join(f"<div><dt>{esc(k)}</dt><dd>{v}</dd></div>" for k, v in items)
    return (
        '<section aria-labelledby="h-kpi"><h2 id="h-kpi">At a glance</h2>'
        f'<dl class="kpis">{cells}</dl></section>'
    )


def _league(board: dict[str, Any]) -> str:
    labels = [p["label"] for p in board["periods"]]
    rows = []
    for r in board["league"]:
        period_note = "" if r["current"] else ' <span class="muted">(no newer submission)</span>'
        trend_label = "Score by period: " + ", ".join(
            f"{label} {'none' if v is None else f'{v:.1f}'}"
            for label, v in zip(labels, r["trend"], strict=True)
        )
        who = esc(r["ics"]) + (
            f' <span class="muted">/ {esc(r["sender"])}</span>' if r["sender"] else ""
        )
        rows.append(
            f'<tr><td class="num inl"><span class="sr-only">Rank </span>{r["rank"]}</td>'
            f'<th scope="row">{who}</th>'
            f'<td data-label="Verdict">{verdict_badge(r["verdict"])}</td>'
            f'<td class="num" data-label="Score"><strong>{r["score"]:.1f}</strong></td>'
            f'<td class="num" data-label="MUSTs not met">{r["must_not_met"]}</td>'
            f'<td data-label="Change">{_change(r["change"])}</td>'
            f'<td class="spark" data-label="Trend">{sparkline(r["trend"], trend_label)}</td>'
            f'<td data-label="Period">{esc(r["period"]["label"])}{period_note}'
            f'<br><span class="muted">{esc(r["standard"])}</span></td></tr>'
        )
    current = board["current_period"]
    lead = (
        f"Latest scorecard of each ICS and sender; current period {esc(current['label'])}."
        if current
        else "No scorecards."
    )
    return (
        '<section aria-labelledby="h-league"><h2 id="h-league">League table</h2>'
        f'<p class="lead">{lead} Ranked by verdict, then score. Change is since the '
        "unit's previous period.</p>"
        '<table class="cards league"><thead><tr><th scope="col" class="num">Rank</th>'
        '<th scope="col">ICS / sender</th><th scope="col">Verdict</th>'
        '<th scope="col" class="num">Score</th><th scope="col" class="num">MUSTs not met</th>'
        '<th scope="col">Change</th><th scope="col">Trend</th><th scope="col">Period, '
        "standard</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></section>"
    )


def _heatmap(board: dict[str, Any]) -> str:
    heat = board["heatmap"]
    ids = heat["requirements"]
    titles = {r["id"]: r for r in board["requirements"]}
    if not ids:
        return ""
    head = "".join(
        f'<th scope="col" title="{esc(titles[i]["title"])}"><span>{esc(i)}</span></th>' for i in ids
    )
    rows = []
    for row in heat["rows"]:
        cells = []
        for rid, status in zip(ids, row["cells"], strict=True):
            if status is None:
                cells.append(
                    f'<td class="h-none" title="{esc(rid)}: not in this standard">'
                    '<span aria-hidden="true">·</span><span class="sr-only">not assessed</span>'
                    "</td>"
                )
                continue
            label = STATUS_LABEL.get(status, status)
            cells.append(
                f'<td class="h-{esc(status)}" title="{esc(rid)}: {esc(label)}">'
                f'<span aria-hidden="true">{STATUS_SYMBOL.get(status, "?")}</span>'
                f'<span class="sr-only">{esc(label)}</span></td>'
            )
        who = esc(row["ics"]) + (f" / {esc(row['sender'])}" if row["sender"] else "")
        rows.append(f'<tr><th scope="row">{who}</th>{"".join(cells)}</tr>')
    legend = "".join(
        f'<li><span class="sw h-{s}" aria-hidden="true">{STATUS_SYMBOL[s]}</span>'
        f"{esc(STATUS_LABEL[s])}</li>"
        for s in ("pass", "partial", "fail", "not-applicable")
    )
    return (
        '<section class="heatmap" aria-labelledby="h-heat"><h2 id="h-heat">Requirements by ICS'
        '</h2><p class="lead">Each unit\'s latest scorecard. Scroll sideways on a small '
        'screen.</p><div class="scroll"><table class="heat"><caption class="sr-only">Status '
        f"of each requirement by ICS</caption><thead><tr><td></td>{head}</tr></thead><tbody>"
        + "".join(rows)
        + f'</tbody></table></div><ul class="legend">{legend}</ul></section>'
    )


def _national(board: dict[str, Any]) -> str:
    rows = []
    for r in board["requirements"]:
        rate = r["pass_rate"]
        status = (
            "not-applicable"
            if rate is None
            else "pass"
            if rate >= 1.0
            else "partial"
            if rate > 0
            else "fail"
        )
        change = (
            '<span class="flat">not applicable</span>'
            if rate is None
            else _change(r["pass_rate_change"], " pts", 0, 100.0)
        )
        rows.append(
            f'<tr><td data-label="Requirement"><code>{esc(r["id"])}</code> '
            f'<span class="muted">{esc(r["level"])}</span><br>{esc(r["title"])}</td>'
            f'<td class="ratecell" data-label="Pass rate"><div class="figures"><span>'
            f'{percent(rate, 0)}</span><span class="muted">{r["units_passing"]} of '
            f"{r['units_applicable']}</span></div>{rate_bar(rate, None, status)}</td>"
            f'<td data-label="Mean rate" class="num">{percent(r["mean_rate"])}</td>'
            f'<td data-label="Change">{change}</td></tr>'
        )
    return (
        '<section aria-labelledby="h-nat"><h2 id="h-nat">National pass rate by requirement</h2>'
        '<p class="lead">Share of ICSs meeting each requirement in the current period (of those '
        "where it applies), the mean rate of records meeting it, and the change in pass rate "
        "since the previous period.</p>"
        '<table class="cards"><thead><tr><th scope="col">Requirement</th><th scope="col">'
        'Pass rate</th><th scope="col" class="num">Mean rate</th><th scope="col">Change</th>'
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></section>"
    )


def _movers(board: dict[str, Any]) -> str:
    movers = board["movers"]
    previous = board["previous_period"]
    if previous is None:
        body = "<p>Only one period so far: nothing to compare with.</p>"
    elif not movers:
        body = "<p>No requirement's national pass rate changed since the previous period.</p>"
    else:
        rows = "".join(
            f'<tr><td data-label="Requirement"><code>{esc(m["id"])}</code><br>'
            f"{esc(m['title'])}</td>"
            f'<td class="num" data-label="Before">{percent(m["previous_pass_rate"], 0)}</td>'
            f'<td class="num" data-label="Now">{percent(m["pass_rate"], 0)}</td>'
            f'<td data-label="Change">{_change(m["pass_rate_change"], " pts", 0, 100.0)}<br>'
            f'<span class="muted">mean rate {_change(m["mean_rate_change"], " pts", 1, 100.0)}'
            "</span></td></tr>"
            for m in movers
        )
        body = (
            '<table class="cards"><thead><tr><th scope="col">Requirement</th>'
            f'<th scope="col" class="num">{esc(previous["label"])}</th><th scope="col" '
            f'class="num">{esc(board["current_period"]["label"])}</th><th scope="col">Change'
            f"</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    return (
        '<section aria-labelledby="h-movers"><h2 id="h-movers">Biggest movers since the '
        f"previous period</h2>{body}</section>"
    )


def _adoption(board: dict[str, Any]) -> str:
    labels = [p["label"] for p in board["periods"]]
    head = "".join(f'<th scope="col" class="num">{esc(label)}</th>' for label in labels)
    rows = "".join(
        f'<tr><th scope="row"><code>{esc(a["standard"])}</code></th>'
        + "".join(
            f'<td class="num" data-label="{esc(label)}">{n}</td>'
            for label, n in zip(labels, a["by_period"], strict=True)
        )
        + "</tr>"
        for a in board["adoption"]
    )
    return (
        '<section aria-labelledby="h-adopt"><h2 id="h-adopt">Standard version adoption</h2>'
        '<p class="lead">Number of ICS submissions validated against each standard version, '
        'by period.</p><div class="scroll"><table><thead><tr><th scope="col">Standard</th>'
        f"{head}</tr></thead><tbody>{rows}</tbody></table></div></section>"
    )


def render_html(board: dict[str, Any]) -> str:
    current = board["current_period"]
    label = current["label"] if current else "no data"
    header = (
        "<h1>Interoperability board pack</h1>"
        f"<p>{esc(label)} · {board['units']} ICS submitters · {board['scorecards']} scorecards "
        f"over {len(board['periods'])} period(s)</p>"
    )
    footer = (
        f"<footer><p>Board pack format {esc(board['board_version'])}, made by conformance from "
        f"{board['scorecards']} JSON scorecards; latest run "
        f"{esc(board['latest_run'] or 'none')}. No patient data appears in this report."
        "</p></footer>"
    )
    status_css = "".join(f".h-{k}{{background:{v}}}" for k, v in STATUS_COLOUR.items())
    body = [
        _kpis(board),
        _league(board),
        _movers(board),
        _heatmap(board),
        _national(board),
        _adoption(board),
        footer,
    ]
    return page(
        f"Interoperability board pack: {label}",
        header,
        [b for b in body if b],
        BOARD_CSS + status_css,
    )


def render(board: dict[str, Any], fmt: str) -> str:
    if fmt == "html":
        return render_html(board)
    if fmt == "csv":
        return render_csv(board)
    if fmt == "json":
        return render_json(board)
    raise ValueError(f"unknown board format {fmt!r}")

"""Render the board pack: HTML (league table, heatmap, national rates), CSV or JSON.

The HTML is ``templates/board.html.j2`` (shared macros and page with the scorecard; see
:mod:`conformance.reporters.htmlkit`). Written to a file with :func:`write_html_pack`, each
ICS row links to that ICS's HTML scorecard, written in a folder beside the board.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import orjson

from conformance.board.aggregate import build_board, latest_scorecards
from conformance.privacy import csv_cell
from conformance.reporters.common import LEVEL_RANK
from conformance.reporters.html import render_scorecard
from conformance.reporters.htmlkit import Link, nice_ceiling, render_page, sparkline

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


_NUMERIC_COLUMNS: Final = frozenset({"score", "previous_score", "change"})
"""Numbers this module formats itself (a change of -1.5 is a number, not a formula)."""


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
        writer.writerow(
            [
                ""
                if values.get(c) is None
                else str(values[c])
                if c in _NUMERIC_COLUMNS or not isinstance(values[c], str)
                else csv_cell(values[c])  # text from a feed: never a formula
                for c in LEAGUE_COLUMNS
            ]
        )
    return out.getvalue()


def _status_of_share(rate: float | None) -> str:
    if rate is None:
        return "not-applicable"
    return "pass" if rate >= 1.0 else "partial" if rate > 0 else "fail"


def _heat_view(board: dict[str, Any], links: Mapping[tuple[str, str], str]) -> dict[str, Any]:
    """The heatmap with its columns grouped by level (MUST, SHOULD, MAY), standard order within."""
    heat = board["heatmap"]
    ids = heat["requirements"]
    level = {r["id"]: r["level"] for r in board["requirements"]}
    groups: dict[str, list[str]] = {}
    for rid in sorted(ids, key=lambda i: LEVEL_RANK.get(level.get(i, ""), 3)):
        groups.setdefault(level.get(rid, "?"), []).append(rid)
    column = {rid: n for n, rid in enumerate(ids)}
    rows = []
    for row in heat["rows"]:
        unit = (row["ics"], row["sender"])
        rows.append(
            {
                "who": row["ics"] + (f" / {row['sender']}" if row["sender"] else ""),
                "href": links.get(unit),
                "groups": [
                    [(rid, row["cells"][column[rid]]) for rid in members]
                    for members in groups.values()
                ],
            }
        )
    return {
        "columns": ids,
        "groups": [{"level": lv, "ids": members} for lv, members in groups.items()],
        "rows": rows,
    }


def board_context(
    board: dict[str, Any],
    links: Mapping[tuple[str, str], str] | None = None,
    links_folder: str | None = None,
) -> dict[str, Any]:
    """Everything ``board.html.j2`` shows. ``links`` maps a unit (ICS, sender) to the
    relative address of its scorecard page, written in ``links_folder``."""
    links = links or {}
    labels = [p["label"] for p in board["periods"]]
    current = [r for r in board["league"] if r["current"]]
    conformant = sum(
        1 for r in current if r["verdict"] in ("Conformant", "Conformant with warnings")
    )
    scores = [r["score"] for r in current]
    kpis = [
        ("Submitting units", f"{board['units']}"),
        ("Submitted this period", f"{len(current)} of {board['units']}"),
        ("Meeting every MUST", f"{conformant} of {len(current)}"),
        ("Mean score (0\u2013100)", f"{sum(scores) / len(scores):.1f}" if scores else "\u2013"),
        ("Periods covered", f"{len(board['periods'])}"),
    ]
    league = [
        {
            "row": r,
            "href": links.get((r["ics"], r["sender"])),
            "spark": sparkline(r["trend"]),
            "trend_label": "Score by period: "
            + ", ".join(
                f"{label} {'none' if v is None else f'{v:.1f}'}"
                for label, v in zip(labels, r["trend"], strict=True)
            ),
        }
        for r in board["league"]
    ]
    movers = board["movers"]
    biggest = max((abs(m["pass_rate_change"] or 0.0) for m in movers), default=0.0)
    current_period = board["current_period"]
    return {
        "board": board,
        "current_label": current_period["label"] if current_period else "no data",
        "kpis": kpis,
        "league": league,
        "links_folder": links_folder if links else None,
        "movers": movers,
        "movers_scale": nice_ceiling(100.0 * biggest),
        "heat": _heat_view(board, links),
        "titles": {r["id"]: r["title"] for r in board["requirements"]},
        "national": [
            {"req": r, "status": _status_of_share(r["pass_rate"])} for r in board["requirements"]
        ],
    }


def render_html(
    board: dict[str, Any],
    links: Mapping[tuple[str, str], str] | None = None,
    links_folder: str | None = None,
) -> str:
    context = board_context(board, links, links_folder)
    return render_page(
        "board.html.j2",
        title=f"Interoperability board pack: {context['current_label']}",
        css=("page.css", "board.css"),
        **context,
    )


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _page_name(unit: tuple[str, str], card: dict[str, Any], used: set[str]) -> str:
    """``<ics>-<sender>-<start>_<end>.html``: only safe characters, unique in the folder."""
    period = (card.get("feed") or {}).get("period") or {}
    parts = [*unit, f"{period.get('start') or ''}_{period.get('end') or ''}"]
    stem = "-".join(_UNSAFE_NAME.sub("_", str(p)).strip("._") for p in parts if p)[:120]
    stem = stem.lstrip(".-") or "scorecard"
    name, n = f"{stem}.html", 1
    while name.lower() in used:
        n += 1
        name = f"{stem}-{n}.html"
    used.add(name.lower())
    return name


def scorecards_folder(board_file: Path) -> Path:
    """Where the board pack's scorecards go: ``board.html`` -> ``board-scorecards/``."""
    return board_file.with_name(f"{board_file.stem}-scorecards")


def write_html_pack(scorecards: Sequence[dict[str, Any]], board_file: Path) -> list[Path]:
    """Write the HTML board pack to ``board_file`` and, in :func:`scorecards_folder` beside
    it, the HTML scorecard of each league row, linked from the row (relative links, so the
    file and its folder can be copied together to a shared drive). Returns the files written.
    """
    folder = scorecards_folder(board_file)
    back = Link(f"../{quote(board_file.name)}", "Board pack")
    pages: dict[str, str] = {}
    links: dict[tuple[str, str], str] = {}
    used: set[str] = set()
    for unit, card in sorted(latest_scorecards(scorecards).items()):
        name = _page_name(unit, card, used)
        pages[name] = render_scorecard(card, back=back)
        links[unit] = f"{quote(folder.name)}/{quote(name)}"
    text = render_html(build_board(scorecards), links, folder.name)
    folder.mkdir(exist_ok=True)
    written = []
    for name, page in pages.items():
        (folder / name).write_text(page, encoding="utf-8")
        written.append(folder / name)
    board_file.write_text(text, encoding="utf-8")
    return [board_file, *written]


def render(board: dict[str, Any], fmt: str) -> str:
    if fmt == "html":
        return render_html(board)
    if fmt == "csv":
        return render_csv(board)
    if fmt == "json":
        return render_json(board)
    raise ValueError(f"unknown board format {fmt!r}")

"""The national board pack: many scorecards (ICSs x periods) aggregated into one picture.

A *unit* is a submitting ICS and sender. For each unit and reporting period one scorecard
counts (when there are several: the newest standard version, then the latest run). The
*current* period is the latest one any unit submitted for; the *previous* one is the
period before it. The board holds:

* ``league``: each unit's latest scorecard (verdict, score, MUSTs not met), its change in
  score since its own previous period, and its score in every period (the sparkline);
* ``heatmap``: unit x requirement status from the same latest scorecards;
* ``requirements``: per requirement, the national pass rate (units passing / units where
  it applies) in the current and previous period, and the mean rate;
* ``adoption``: units per standard version, per period;
* ``movers``: the requirements whose national pass rate changed most since the previous
  period.

The result is plain JSON data with a stable order: the same scorecards give the same
board, whatever order they are given in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from conformance.reporters.common import NOT_MET, period_label
from conformance.scorecard.score import current_score
from conformance.standards.registry import version_key

BOARD_VERSION: Final = "1.0.0"
VERDICT_RANK: Final = {
    "Conformant": 0,
    "Conformant with warnings": 1,
    "Not conformant": 2,
    "Incomplete": 3,
}
MOVERS: Final = 10


@dataclass(frozen=True, slots=True)
class _Card:
    unit: tuple[str, str]
    period: tuple[str, str]
    data: dict[str, Any]

    @property
    def standard(self) -> str:
        std = self.data["standard"]
        return f"{std['id']}@{std['version']}"


def _unit(card: dict[str, Any]) -> tuple[str, str]:
    feed = card.get("feed") or {}
    ics = feed.get("ics") or feed.get("id") or "unknown"
    return (str(ics), str(feed.get("sender") or ""))


def _period(card: dict[str, Any]) -> tuple[str, str]:
    period = (card.get("feed") or {}).get("period") or {}
    return (str(period.get("start") or ""), str(period.get("end") or ""))


def _period_sort(period: tuple[str, str]) -> tuple[str, str]:
    return (period[1], period[0])


def _preference(card: _Card) -> tuple[Any, ...]:
    std = card.data["standard"]
    return (
        version_key(str(std["version"])),
        str(card.data.get("run", {}).get("started", "")),
        card.data["score"],
    )


def _rate(passing: int, applicable: int) -> float | None:
    return None if applicable == 0 else round(passing / applicable, 4)


def _delta(now: float | None, before: float | None, digits: int) -> float | None:
    return None if now is None or before is None else round(now - before, digits)


def _choose(
    scorecards: Iterable[dict[str, Any]],
) -> dict[tuple[tuple[str, str], tuple[str, str]], _Card]:
    """The scorecard that counts for each unit and period."""
    chosen: dict[tuple[tuple[str, str], tuple[str, str]], _Card] = {}
    for data in map(current_score, scorecards):  # one score formula for every period
        card = _Card(_unit(data), _period(data), data)
        key = (card.unit, card.period)
        held = chosen.get(key)
        if held is None or _preference(card) > _preference(held):
            chosen[key] = card
    return chosen


def latest_scorecards(
    scorecards: Iterable[dict[str, Any]],
) -> dict[tuple[str, str], dict[str, Any]]:
    """The scorecard each league row shows, by unit (ICS, sender): its latest period's."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for card in sorted(_choose(scorecards).values(), key=lambda c: _period_sort(c.period)):
        latest[card.unit] = card.data
    return latest


def build_board(scorecards: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate scorecards into the board data (see the module docstring)."""
    chosen = _choose(scorecards)
    periods = sorted({c.period for c in chosen.values()}, key=_period_sort)
    units = sorted({c.unit for c in chosen.values()})
    current = periods[-1] if periods else None
    previous = periods[-2] if len(periods) > 1 else None
    by_unit: dict[tuple[str, str], list[_Card]] = {u: [] for u in units}
    for card in sorted(chosen.values(), key=lambda c: _period_sort(c.period)):
        by_unit[card.unit].append(card)

    requirement_info = _requirement_catalogue(list(chosen.values()))
    league = _league(by_unit, periods, current)
    latest = {u: cards[-1] for u, cards in by_unit.items() if cards}

    heat_ids = [rid for rid in requirement_info if any(_find(c, rid) for c in latest.values())]
    heatmap = {
        "requirements": heat_ids,
        "rows": [
            {
                "ics": row["ics"],
                "sender": row["sender"],
                "period": row["period"],
                "cells": [_status(latest[(row["ics"], row["sender"])], rid) for rid in heat_ids],
            }
            for row in league
        ],
    }

    per_period = {p: [c for c in chosen.values() if c.period == p] for p in periods}
    requirements = []
    for rid, info in requirement_info.items():
        now = _national(per_period.get(current, []) if current else [], rid)
        before = _national(per_period.get(previous, []) if previous else [], rid)
        requirements.append(
            {
                **info,
                "units_applicable": now["applicable"],
                "units_passing": now["passing"],
                "pass_rate": now["pass_rate"],
                "mean_rate": now["mean_rate"],
                "previous_pass_rate": before["pass_rate"],
                "previous_mean_rate": before["mean_rate"],
                "pass_rate_change": _delta(now["pass_rate"], before["pass_rate"], 4),
                "mean_rate_change": _delta(now["mean_rate"], before["mean_rate"], 4),
            }
        )
    movers = sorted(
        (r for r in requirements if r["pass_rate_change"] or r["mean_rate_change"]),
        key=lambda r: (
            -abs(r["pass_rate_change"] or 0.0),
            -abs(r["mean_rate_change"] or 0.0),
            r["id"],
        ),
    )[:MOVERS]

    adoption_keys = sorted(
        {c.standard for c in chosen.values()},
        key=lambda s: (s.split("@")[0], version_key(s.split("@")[1])),
    )
    adoption = [
        {
            "standard": std,
            "units_current": sum(1 for c in per_period.get(current, []) if c.standard == std)
            if current
            else 0,
            "by_period": [sum(1 for c in per_period[p] if c.standard == std) for p in periods],
        }
        for std in adoption_keys
    ]
    started = sorted(str(c.data.get("run", {}).get("started", "")) for c in chosen.values())
    return {
        "board_version": BOARD_VERSION,
        "scorecards": len(chosen),
        "units": len(units),
        "latest_run": started[-1] if started else None,
        "periods": [_period_dict(p) for p in periods],
        "current_period": _period_dict(current) if current else None,
        "previous_period": _period_dict(previous) if previous else None,
        "league": league,
        "heatmap": heatmap,
        "requirements": requirements,
        "movers": [
            {
                k: r[k]
                for k in (
                    "id",
                    "title",
                    "level",
                    "previous_pass_rate",
                    "pass_rate",
                    "pass_rate_change",
                    "previous_mean_rate",
                    "mean_rate",
                    "mean_rate_change",
                )
            }
            for r in movers
        ],
        "adoption": adoption,
    }


def _period_dict(period: tuple[str, str]) -> dict[str, Any]:
    return {
        "start": period[0] or None,
        "end": period[1] or None,
        "label": period_label(period[0] or None, period[1] or None),
    }


def _find(card: _Card, rid: str) -> dict[str, Any] | None:
    for req in card.data["requirements"]:
        if req["id"] == rid:
            return dict(req)
    return None


def _status(card: _Card, rid: str) -> str | None:
    req = _find(card, rid)
    return None if req is None else str(req["status"])


def _requirement_catalogue(cards: list[_Card]) -> dict[str, dict[str, Any]]:
    """Requirement ids in standard order: the newest standard's order, then the others."""
    ordered = sorted(cards, key=_preference, reverse=True)
    info: dict[str, dict[str, Any]] = {}
    for card in ordered:
        for req in card.data["requirements"]:
            if req["id"] not in info:
                info[req["id"]] = {
                    "id": req["id"],
                    "title": req["title"],
                    "level": req["level"],
                    "domain": req["domain"],
                }
    return info


def _national(cards: list[_Card], rid: str) -> dict[str, Any]:
    applicable = passing = 0
    rates: list[float] = []
    for card in cards:
        req = _find(card, rid)
        if req is None or req["status"] in ("not-applicable", "error"):
            continue
        applicable += 1
        passing += req["status"] == "pass"
        if req["rate"] is not None:
            rates.append(float(req["rate"]))
    return {
        "applicable": applicable,
        "passing": passing,
        "pass_rate": _rate(passing, applicable),
        "mean_rate": round(sum(rates) / len(rates), 4) if rates else None,
    }


def _league(
    by_unit: dict[tuple[str, str], list[_Card]],
    periods: list[tuple[str, str]],
    current: tuple[str, str] | None,
) -> list[dict[str, Any]]:
    rows = []
    for unit, cards in by_unit.items():
        if not cards:
            continue
        last = cards[-1]
        before = cards[-2] if len(cards) > 1 else None
        data = last.data
        must_failed = sum(
            1 for r in data["requirements"] if r["level"] == "MUST" and r["status"] in NOT_MET
        )
        should_failed = sum(
            1 for r in data["requirements"] if r["level"] == "SHOULD" and r["status"] in NOT_MET
        )
        by_period = {c.period: float(c.data["score"]) for c in cards}
        rows.append(
            {
                "ics": unit[0],
                "sender": unit[1],
                "feed": (data.get("feed") or {}).get("id"),
                "period": _period_dict(last.period),
                "current": last.period == current,
                "standard": last.standard,
                "verdict": data["verdict"],
                "score": float(data["score"]),
                "must_not_met": must_failed,
                "should_not_met": should_failed,
                "previous_score": None if before is None else float(before.data["score"]),
                "previous_period": None if before is None else _period_dict(before.period),
                "change": None
                if before is None
                else round(float(data["score"]) - float(before.data["score"]), 1),
                "trend": [by_period.get(p) for p in periods],
            }
        )
    rows.sort(
        key=lambda r: (
            not r["current"],
            VERDICT_RANK.get(r["verdict"], 9),
            -r["score"],
            r["must_not_met"],
            r["ics"],
            r["sender"],
        )
    )
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows

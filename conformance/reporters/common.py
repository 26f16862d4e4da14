"""Helpers shared by the reporters: locations, ordering of findings, requirement help.

Everything here reads the canonical scorecard only (plus, for help text, the embedded
standard it names), so every format shows the same masked values in the same order.
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SEVERITY_RANK = {"error": 0, "warning": 1, "information": 2}
LEVEL_RANK = {"MUST": 0, "SHOULD": 1, "MAY": 2}
NOT_MET = ("fail", "partial")

STATUS_LABEL = {
    "pass": "Pass",
    "partial": "Partial",
    "fail": "Fail",
    "not-applicable": "Not applicable",
    "error": "Check error",
}
STATUS_SYMBOL = {"pass": "✓", "partial": "◐", "fail": "✗", "not-applicable": "\u2013", "error": "!"}


def location_text(loc: Mapping[str, Any], *, with_expression: bool = True) -> str:
    """``file:line row R entry[E] expression``: the same shape as the terminal output."""
    text = str(loc.get("file", "<feed>"))
    if "line" in loc:
        text += f":{loc['line']}"
    if "row" in loc:
        text += f" row {loc['row']}"
    if "entry" in loc:
        text += f" entry[{loc['entry']}]"
    if with_expression and "expression" in loc:
        text += f" {loc['expression']}"
    return text


def feed_path(card: Mapping[str, Any], file: str) -> str:
    """A file the scorecard names, as a path from where the run started: scorecards name
    files relative to ``feed.root`` (older ones, without it, hold the path as given)."""
    root = (card.get("feed") or {}).get("root")
    if not root or root == "." or file.startswith("<"):
        return file
    return posixpath.normpath(posixpath.join(str(root).replace("\\", "/"), file))


def fallback_path(card: Mapping[str, Any]) -> str | None:
    """Where a finding without a file points: the manifest, else the feed root, else the
    first input (``<stdin>``); None only when the run had no input."""
    feed = card.get("feed") or {}
    if feed.get("manifest"):
        return feed_path(card, str(feed["manifest"]))
    if feed.get("root"):
        return str(feed["root"]).replace("\\", "/")
    inputs = card.get("inputs") or []
    return str(inputs[0]["file"]) if inputs else None


def percent(rate: float | None, digits: int = 1) -> str:
    return "\u2013" if rate is None else f"{100.0 * rate:.{digits}f}%"


def threshold_text(threshold: float) -> str:
    value = 100.0 * threshold
    return f"{value:.0f}%" if value == int(value) else f"{value:.1f}%"


def requirement_index(card: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in card["requirements"]}


def finding_count(req: Mapping[str, Any]) -> int:
    return int(sum(req["findings"].values()))


def top_findings(card: Mapping[str, Any], limit: int | None) -> list[dict[str, Any]]:
    """The findings to show first: most severe first, then MUSTs, interleaving requirements.

    Interleaving (one finding of each requirement in turn) keeps a requirement with a
    hundred examples from hiding the others. The order is stable for the same scorecard.
    """
    levels = {r["id"]: LEVEL_RANK.get(r["level"], 3) for r in card["requirements"]}
    order = {r["id"]: i for i, r in enumerate(card["requirements"])}
    turn: dict[str, int] = {}
    keyed: list[tuple[tuple[int, int, int, int, int], dict[str, Any]]] = []
    for index, f in enumerate(card["findings"]):
        req = f["requirement"]
        n = turn.get(req, 0)
        turn[req] = n + 1
        key = (
            SEVERITY_RANK.get(f["severity"], 3),
            n,
            levels.get(req, 3),
            order.get(req, len(order)),
            index,
        )
        keyed.append((key, f))
    keyed.sort(key=lambda item: item[0])
    chosen = [f for _, f in keyed]
    return chosen if limit is None else chosen[:limit]


def findings_by_requirement(card: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for f in card["findings"]:
        out.setdefault(f["requirement"], []).append(f)
    return out


def feed_title(card: Mapping[str, Any]) -> str:
    """A short name for the feed: ICS / sender, else the feed id, else the first input."""
    feed = card.get("feed", {})
    parts = [str(feed[k]) for k in ("ics", "sender") if feed.get(k)]
    if parts:
        return " / ".join(parts)
    if feed.get("id"):
        return str(feed["id"])
    inputs = card.get("inputs") or []
    return str(inputs[0]["file"]) if inputs else "feed without a manifest"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def period_label(start: str | None, end: str | None) -> str:
    """``Nov 2026`` for a calendar month, ``2026-11-01 to 2026-11-07`` otherwise."""
    if not start and not end:
        return "no period"
    if start and end and len(start) >= 10 and len(end) >= 10:
        import calendar

        try:
            y1, m1, d1 = int(start[:4]), int(start[5:7]), int(start[8:10])
            y2, m2, d2 = int(end[:4]), int(end[5:7]), int(end[8:10])
        except ValueError:
            return f"{start} to {end}"
        if (
            (y1, m1) == (y2, m2)
            and d1 == 1
            and 1 <= m1 <= 12
            and d2 == calendar.monthrange(y1, m1)[1]
        ):
            return f"{_MONTHS[m1 - 1]} {y1}"
    if start == end:
        return str(start)
    return f"{start or '…'} to {end or '…'}"


def feed_period_label(card: Mapping[str, Any]) -> str:
    period = card.get("feed", {}).get("period") or {}
    return period_label(period.get("start"), period.get("end"))


@dataclass(frozen=True, slots=True)
class RequirementHelp:
    """What the standard says about a requirement beyond its title (for help text)."""

    rationale: str
    measure: str | None
    source: str


@functools.lru_cache(maxsize=8)
def _help_for(standard_id: str, version: str) -> dict[str, RequirementHelp]:
    from conformance.errors import ConformanceError
    from conformance.standards.registry import StandardRegistry

    try:
        standard = StandardRegistry.default().resolve(f"{standard_id}@{version}")
    except (ConformanceError, OSError, ValueError):
        return {}
    if standard.version != version:
        return {}
    return {
        r.id: RequirementHelp(" ".join(r.rationale.split()), r.measure, r.source)
        for r in standard.requirements
    }


def requirement_help(card: Mapping[str, Any]) -> dict[str, RequirementHelp]:
    """Rationale and measure of each requirement, from the embedded standard the card names.

    Empty when that exact standard version is not installed: reporters then fall back to
    the title, so rendering never fails for a scorecard made elsewhere.
    """
    std = card.get("standard", {})
    sid, version = std.get("id"), std.get("version")
    if not isinstance(sid, str) or not isinstance(version, str):
        return {}
    return _help_for(sid, version)


def clean_xml_text(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (control characters other than tab/newline)."""
    return "".join(
        ch
        for ch in text
        if ch in "\t\n\r"
        or ("\x20" <= ch <= "\ud7ff")
        or ("\ue000" <= ch <= "\ufffd")
        or ch >= "\U00010000"
    )


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))

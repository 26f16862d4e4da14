"""The interoperability score: one formula, explained once (:data:`SCORE_EXPLANATION`).

The score agrees with the verdict: a run that meets every MUST always scores more than
one that does not (or that was interrupted), whatever the standard and whatever applied.
The formula is here, beside its explanation: whoever changes one changes the other in the
same commit. The HTML scorecard renders the explanation in its "How the score is
computed" section (paragraphs separated by a blank line, plain text); the README's
"Score" paragraph is the same text (a test compares them).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Final

from conformance.standards.model import Level

MUST_BAND: Final = 50.0
"""Runs meeting every MUST score from here up; the others score below it."""
BELOW_BAND: Final = 49.9

SCORE_EXPLANATION: Final = (
    "The score (0 to 100) ranks feeds by their verdict first, then by how close they come "
    "to every requirement. Each applicable requirement earns a credit: 1 when it passes, "
    "otherwise its rate divided by its threshold (at most 1; 0 when it failed outright). "
    f"The credits are averaged with weights MUST {Level.MUST.weight}, SHOULD "
    f"{Level.SHOULD.weight}, MAY {Level.MAY.weight}, giving q between 0 "
    "and 1 (q is 0 when no record was validated or no requirement applied).\n\n"
    "A complete run that meets every MUST scores 50 + 50 \u00d7 q: from 50 to 100, and "
    "100 only when every requirement is met. A run with a MUST not met, or an interrupted "
    "(Incomplete) run, scores 50 \u00d7 q, at most 49.9, so it never ranks above a run "
    "that meets every MUST.\n\n"
    "Scores are rounded down to one decimal, so 99.96 never reads as 100.0. A domain's "
    "score is 100 \u00d7 q over the domain's requirements."
)
"""How the score is made, in words (plain text; paragraphs separated by a blank line)."""


def score_explanation_paragraphs() -> list[str]:
    """:data:`SCORE_EXPLANATION` split into its paragraphs."""
    return [p.strip() for p in SCORE_EXPLANATION.split("\n\n") if p.strip()]


NOT_MET: Final = ("fail", "partial")


def credit(status: str, rate: float | None, threshold: float) -> float | None:
    """A requirement's credit (0 to 1), or None when it does not count (not applicable)."""
    if status in ("not-applicable", "error"):
        return None
    if status == "pass":
        return 1.0
    if rate is None:
        return 0.0
    if status == "fail" and rate >= threshold:
        return 0.0  # failed outright although the counts look fine (e.g. a bad manifest)
    return min(1.0, rate / threshold) if threshold > 0 else 1.0


def weighted_mean(credits: Iterable[tuple[Level, float | None]]) -> float | None:
    """q: the mean credit weighted by level; None when no requirement applied."""
    num = den = 0.0
    for level, value in credits:
        if value is None:
            continue
        num += level.weight * value
        den += level.weight
    return None if den == 0 else num / den


def floor1(value: float) -> float:
    """Rounded down to one decimal: 99.96 must not read as 100.0 beside an unmet requirement."""
    return math.floor(10.0 * value + 1e-9) / 10.0


def domain_score(q: float | None) -> float | None:
    return None if q is None else floor1(100.0 * q)


def overall_score(
    q: float | None, *, every_must_met: bool, complete: bool, records_validated: int
) -> float:
    """The run's score from q (see :data:`SCORE_EXPLANATION`)."""
    if q is None or records_validated == 0:
        q = 0.0
    if complete and every_must_met:
        return floor1(MUST_BAND + MUST_BAND * q)
    return min(BELOW_BAND, floor1(MUST_BAND * q))


def score_of(card: Mapping[str, Any]) -> float:
    """The score of a canonical scorecard under this formula, from its requirements.

    For scorecards saved before the score was banded (``scorecard_version`` 1.0.0), so that
    a board or a trend never mixes the two formulas.
    """
    requirements = [r for r in card.get("requirements", ()) if isinstance(r, Mapping)]
    q = weighted_mean(
        (Level(r["level"]), credit(r["status"], r.get("rate"), float(r["threshold"])))
        for r in requirements
    )
    counts = card.get("counts") or {}
    return overall_score(
        q,
        every_must_met=not any(
            r["level"] == "MUST" and r["status"] in NOT_MET for r in requirements
        ),
        complete=bool(card.get("complete", True)),
        records_validated=int(counts.get("records_validated", 0)),
    )


def current_score(card: dict[str, Any]) -> dict[str, Any]:
    """``card`` with its score under this formula (recomputed for 1.0.0 scorecards)."""
    if card.get("scorecard_version") != "1.0.0":
        return card
    return {**card, "score": score_of(card)}

"""How the interoperability score is computed, in words: the one text every report shows.

The formula itself is implemented in :mod:`conformance.scorecard.build`; whoever changes
it changes this text in the same commit. The HTML scorecard renders it in its "How the
score is computed" section (each paragraph separated by a blank line, plain text).
"""

from __future__ import annotations

from typing import Final

from conformance.standards.model import Level

SCORE_EXPLANATION: Final = (
    "The score is the weighted mean, over the requirements that apply to the feed, of "
    "each requirement's credit: 1 for a requirement that passes, otherwise its rate "
    "divided by its threshold (at most 1), and 0 for one that failed outright (for "
    "example, an input that could not be read). Weights: "
    f"MUST {Level.MUST.weight}, SHOULD {Level.SHOULD.weight}, MAY {Level.MAY.weight}. "
    "The mean is multiplied by 100 and floored to one decimal, so only a feed that meets "
    "every requirement scores 100.0.\n\n"
    "Requirements that are not applicable (nothing to measure) do not count. Domain scores "
    "use the same formula over the domain's requirements.\n\n"
    "The verdict is separate from the score: Not conformant when any MUST is not met; "
    "otherwise Conformant with warnings when any SHOULD is not met; otherwise Conformant."
)
"""Plain text; paragraphs are separated by a blank line."""


def score_explanation_paragraphs() -> list[str]:
    """:data:`SCORE_EXPLANATION` split into its paragraphs."""
    return [p.strip() for p in SCORE_EXPLANATION.split("\n\n") if p.strip()]

"""Scores that agree with verdicts: meeting every MUST always ranks above not meeting one."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.scorecard.score import SCORE_EXPLANATION, score_of
from tests.conftest import FIXTURES, REPO, CliResult

pytestmark = pytest.mark.acceptance

Cli = Callable[..., CliResult]
SAMPLES = REPO / "sample_feeds"
MEETS_EVERY_MUST = ("Conformant", "Conformant with warnings")


def _card(cli: Cli, *args: Any) -> dict[str, Any]:
    result = cli("validate", *args, "--format", "json")
    assert result.code in (0, 1), result.err
    card: dict[str, Any] = result.json()
    return card


def test_a_not_conformant_sample_scores_below_the_one_with_warnings(cli: Cli) -> None:
    failing = _card(cli, SAMPLES / "qop-failing")
    warnings = _card(cli, SAMPLES / "qr1-warnings")
    assert failing["verdict"] == "Not conformant"
    assert warnings["verdict"] == "Conformant with warnings"
    assert failing["score"] < 50.0 <= warnings["score"] < 100.0
    assert failing["score"] < warnings["score"]


def _random_card(rng: random.Random) -> dict[str, Any]:
    requirements = []
    for index in range(rng.randint(1, 12)):
        status = rng.choice(["pass", "partial", "fail", "not-applicable"])
        threshold = rng.choice([1.0, 0.95, 0.7, 0.5])
        rate = {
            "pass": rng.uniform(threshold, 1.0),
            "partial": rng.uniform(0.01, threshold - 0.001),
            "fail": rng.choice([0.0, None]),
            "not-applicable": None,
        }[status]
        requirements.append(
            {
                "id": f"R-{index}",
                "level": rng.choice(["MUST", "SHOULD", "MAY"]),
                "status": status,
                "rate": rate,
                "threshold": threshold,
            }
        )
    complete = rng.random() > 0.2
    return {
        "requirements": requirements,
        "complete": complete,
        "counts": {"records_validated": rng.choice([0, 1, 500])},
    }


def _meets_every_must(card: dict[str, Any]) -> bool:
    return card["complete"] and not any(
        r["level"] == "MUST" and r["status"] in ("partial", "fail") for r in card["requirements"]
    )


def test_no_run_with_an_unmet_must_or_interrupted_scores_above_one_meeting_every_must() -> None:
    """Over many random requirement sets (any mix of levels, thresholds, applicability)."""
    rng = random.Random(15)
    cards = [_random_card(rng) for _ in range(3000)]
    good = [score_of(c) for c in cards if _meets_every_must(c)]
    bad = [score_of(c) for c in cards if not _meets_every_must(c)]
    assert good and bad
    assert max(bad) < min(good)
    assert max(bad) <= 49.9 and min(good) >= 50.0
    perfect = [
        c
        for c in cards
        if all(r["status"] in ("pass", "not-applicable") for r in c["requirements"])
    ]
    for card in perfect:
        expected = (
            100.0 if _meets_every_must(card) and card["counts"]["records_validated"] else None
        )
        if expected is not None and any(r["status"] == "pass" for r in card["requirements"]):
            assert score_of(card) == expected


def test_an_interrupted_run_with_no_record_scores_0(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conformance.engine import accumulate

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(accumulate.Accumulator, "read_item", interrupted)
    result = cli("validate", SAMPLES / "qwo-conformant", "--format", "json")
    assert result.code == 130
    card = result.json()
    assert card["verdict"] == "Incomplete" and card["counts"]["records_read"] == 0
    assert card["score"] == 0.0


def test_the_first_record_of_a_feed_can_be_plain_conformant(cli: Cli, tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    result = cli("validate", SAMPLES / "qwo-conformant", "--record", "--db", db, "-f", "json")
    assert result.code == 0, result.err
    card = result.json()
    assert card["verdict"] == "Conformant" and card["score"] == 100.0
    time04 = next(r for r in card["requirements"] if r["id"] == "MDSS-TIME-04")
    assert time04["status"] == "not-applicable"
    assert "it holds 1 of the 5 periods" in time04["note"]


def test_the_board_mean_score_does_not_contradict_meeting_every_must(
    cli: Cli, tmp_path: Path
) -> None:
    saved = []
    feeds = [
        SAMPLES / "qwo-conformant",
        SAMPLES / "qr1-warnings",
        SAMPLES / "qop-failing",
        FIXTURES / "feeds" / "conformant",
        SAMPLES / "single",
    ]
    for index, feed in enumerate(feeds):
        out = tmp_path / f"card{index}.json"
        cli("validate", feed, "-f", "json", "-o", out, "--environment", "test")
        saved.append(out)
    board = cli("board", *saved, "--format", "json").json()
    league = [row for row in board["league"] if row["current"]]
    meeting = [row["score"] for row in league if row["verdict"] in MEETS_EVERY_MUST]
    others = [row["score"] for row in league if row["verdict"] not in MEETS_EVERY_MUST]
    assert meeting and others
    assert max(others) < min(meeting)
    html = cli("board", *saved, "--format", "html").out
    mean = float(re.search(r"<dt>Mean score[^<]*</dt><dd>([0-9.]+)</dd>", html).group(1))  # type: ignore[union-attr]
    share = len(meeting) / len(league)
    assert mean <= 100.0 * share + 49.9 * (1 - share)  # a mean near 100 needs every MUST met


def test_the_score_is_explained_once_and_the_readme_says_the_same() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert " ".join(SCORE_EXPLANATION.split()) in " ".join(readme.split())

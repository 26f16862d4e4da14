"""Under load, scaled down: 20k generated resources with about 10 % defects.

The counts must be exact against what the generator injected and the examples capped.
The full run (1M resources, peak RSS under 300 MB) is ``tests/hostile/load_test.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import CliResult
from tests.hostile.load_test import build_feed, check_card

CAP = 25


def test_generated_feed_counts_exact_and_findings_capped(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    feed = build_feed(tmp_path / "feed", resources=20_000)
    written = sum(feed.counts.values())
    assert written > 18_000
    defective = len({(d.file, d.line) for d in feed.injected if d.line is not None})
    assert 0.08 < defective / written < 0.2
    result = cli(
        "validate",
        feed.root,
        "-f",
        "json",
        "--no-progress",
        "--jobs",
        "1",
        "--limit",
        f"findings-per-requirement={CAP}",
    )
    assert result.code == 1, result.err
    card = result.json()
    assert check_card(card, feed, CAP) == []
    assert (
        max(
            sum(1 for f in card["findings"] if f["requirement"] == r["id"])
            for r in card["requirements"]
        )
        == CAP
    )

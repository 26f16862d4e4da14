"""Several feeds on one command line: one scorecard per feed, the worst exit code."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conformance.scorecard.model import scorecard_schema
from tests.conftest import FIXTURES, REPO, CliResult

pytestmark = pytest.mark.acceptance

Cli = Callable[..., CliResult]
SAMPLES = REPO / "sample_feeds"


def _without_run(card: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in card.items() if k != "run"}


def _alone(cli: Cli, *inputs: Path | str) -> dict[str, Any]:
    result = cli("validate", *inputs, "--format", "json")
    assert result.code in (0, 1), result.err
    card: dict[str, Any] = result.json()
    return card


@pytest.fixture(scope="module")
def two_feeds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A feed with warnings and a conformant one with its own manifest and SITREP table."""
    root = tmp_path_factory.mktemp("feeds")
    first, second = root / "qr1", root / "qwo"
    shutil.copytree(SAMPLES / "qr1-warnings", first)
    shutil.copytree(SAMPLES / "qwo-conformant", second)
    return first, second


def test_each_feed_gets_the_scorecard_it_gets_alone(cli: Cli, two_feeds: tuple[Path, Path]) -> None:
    first, second = two_feeds
    together = cli("validate", first, second, "--format", "json")
    cards = together.json()
    assert isinstance(cards, list) and len(cards) == 2
    for card in cards:
        jsonschema.validate(card, scorecard_schema())
    assert [c["feed"]["ics"] for c in cards] == ["QR1", "QWO"]  # each its own manifest
    assert [c["verdict"] for c in cards] == ["Conformant with warnings", "Conformant"]
    assert [_without_run(c) for c in cards] == [
        _without_run(_alone(cli, first)),
        _without_run(_alone(cli, second)),
    ]
    assert together.code == 0  # the worst of 0 and 0 (warnings do not fail under must)


def test_exit_code_is_the_worst_and_terminal_ends_with_a_summary(
    cli: Cli, two_feeds: tuple[Path, Path]
) -> None:
    bad = FIXTURES / "feeds" / "non-conformant"
    result = cli("validate", two_feeds[1], bad)
    assert result.code == 1
    out = result.out
    assert out.count("Standard  mdss@") == 2
    assert f"=== {two_feeds[1]} (1 of 2) ===" in out
    assert "=== loose files (2 of 2) ===" in out
    summary = out[out.index("Summary of 2 runs") :]
    assert "Conformant" in summary and "Not conformant" in summary
    assert "Exit code 1: the worst of the runs" in summary


def test_loose_files_form_one_run(cli: Cli, two_feeds: tuple[Path, Path]) -> None:
    single = SAMPLES / "single"
    cards = cli(
        "validate", single / "patient.json", two_feeds[1], single / "bundle.json", "-f", "json"
    ).json()
    assert len(cards) == 2
    loose = cards[0]
    assert [i["file"] for i in loose["inputs"]] == ["patient.json", "bundle.json"]
    assert loose["feed"]["root"] == str(single)
    assert "manifest" not in loose["feed"]
    assert cards[1]["feed"]["ics"] == "QWO"


def test_a_folder_of_feeds_is_split_into_its_feeds(
    cli: Cli, two_feeds: tuple[Path, Path], tmp_path: Path
) -> None:
    parent = two_feeds[0].parent
    cards = cli("validate", parent, "-f", "json").json()
    assert [c["feed"]["root"] for c in cards] == [str(two_feeds[0]), str(two_feeds[1])]


def test_output_dir_writes_one_file_per_feed_and_a_summary(
    cli: Cli, two_feeds: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    bad = FIXTURES / "feeds" / "non-conformant"
    result = cli("validate", two_feeds[1], bad, "--format", "sarif", "--output-dir", out)
    assert result.code == 1
    summary = json.loads((out / "summary.json").read_text())
    assert summary["exit_code"] == 1
    assert [(r["label"], r["verdict"], r["exit_code"]) for r in summary["runs"]] == [
        (str(two_feeds[1]), "Conformant", 0),
        ("loose files", "Not conformant", 1),
    ]
    for run in summary["runs"]:
        assert json.loads((out / run["report"]).read_text())["version"] == "2.1.0"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["summary.json", *(r["report"] for r in summary["runs"])]
    )


def test_a_format_that_cannot_hold_several_feeds_asks_for_output_dir(
    cli: Cli, two_feeds: tuple[Path, Path]
) -> None:
    result = cli("validate", *two_feeds, "--format", "sarif")
    assert result.code == 2
    assert "--output-dir" in result.err and result.err.count("\n") == 1


def test_baseline_list_is_matched_feed_by_feed(
    cli: Cli, two_feeds: tuple[Path, Path], tmp_path: Path
) -> None:
    saved = tmp_path / "baseline.json"
    assert cli("validate", *two_feeds, "-f", "json", "-o", saved).code == 0
    again = cli("validate", *two_feeds, "-f", "json", "--baseline", saved, "--fail-on", "should")
    assert again.code == 0, again.err
    assert again.err.count("no regression against the baseline") == 2


def test_an_empty_folder_is_no_inputs_found(cli: Cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "README.md").write_text("nothing here")
    result = cli("validate", empty)
    assert result.code == 2
    assert result.err == f"conformance: error: {empty}: no inputs found " + (
        "(the folder holds no feed files: FHIR JSON, NDJSON, XML, CSV, archives)\n"
    )
    assert result.out == ""

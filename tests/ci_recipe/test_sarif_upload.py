"""SARIF from real runs passes the SARIF schema and GitHub's code-scanning upload rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.ci_recipe.sarif_rules import upload_problems
from tests.conftest import FIXTURES, REPO, CliResult, ndjson, patient

Cli = Callable[..., CliResult]
SAMPLES = REPO / "sample_feeds"


def _sarif(cli: Cli, *args: Any) -> dict[str, Any]:
    result = cli("validate", *args, "--format", "sarif")
    assert result.code in (0, 1), result.err
    doc: dict[str, Any] = json.loads(result.out)
    return doc


def _uris(doc: dict[str, Any]) -> list[str]:
    return [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in doc["runs"][0]["results"]
    ]


@pytest.mark.parametrize(
    "feed",
    [
        "sample_feeds/qop-failing",
        "sample_feeds/single",  # loose files: manifest-missing has no file of its own
        "tests/fixtures/feeds/non-conformant",
    ],
)
def test_every_result_has_a_relative_location(
    cli: Cli, feed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    doc = _sarif(cli, feed)
    assert doc["runs"][0]["results"]
    assert upload_problems(doc) == []
    assert all(uri.startswith(f"{feed}/") or uri == feed for uri in _uris(doc))


def test_a_result_about_the_whole_feed_points_at_the_manifest(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "manifest.json").write_text('{"feed": {"id": "x"}}')  # no files array: PROV-01
    (feed / "Patient.ndjson").write_bytes(ndjson(patient()))
    monkeypatch.chdir(tmp_path)
    doc = _sarif(cli, "feed")
    assert upload_problems(doc) == []
    prov = [r for r in doc["runs"][0]["results"] if r["ruleId"] == "MDSS-PROV-01"]
    assert prov
    for result in prov:
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == "feed/manifest.json"


def test_loose_files_without_a_manifest_point_at_the_feed_root(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(FIXTURES / "feeds")
    doc = _sarif(cli, "non-conformant")
    missing = [
        r for r in doc["runs"][0]["results"] if r["properties"].get("code") == "manifest-missing"
    ]
    assert missing
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in missing} == {
        "non-conformant"
    }


def test_an_absolute_feed_path_gives_file_uris(cli: Cli) -> None:
    doc = _sarif(cli, SAMPLES / "single")
    assert upload_problems(doc, relative_only=False) == []
    assert all(uri.startswith("file:///") for uri in _uris(doc))

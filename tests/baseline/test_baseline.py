"""--baseline: fail only on regressions against a saved scorecard."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from conformance.baseline import compare, fingerprint
from tests.conftest import ndjson, patient, with_nhs_number

GOOD = "9990000018"
BAD = "9990000019"  # wrong check digit


def _feed(folder: Path, numbers: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    resources = [with_nhs_number(n, f"pat-{i}") for i, n in enumerate(numbers)]
    (folder / "Patient.ndjson").write_bytes(ndjson(*resources))
    return folder


def _save(cli: Callable[..., Any], feed: Path, out: Path) -> dict[str, Any]:
    result = cli("validate", feed, "--standard", "mdss@1.0.0", "-f", "json", "-o", out)
    assert result.code in (0, 1), result.err
    data: dict[str, Any] = orjson.loads(out.read_bytes())
    return data


def test_same_feed_passes_against_its_own_baseline(cli: Any, tmp_path: Path) -> None:
    feed = _feed(tmp_path / "feed", [GOOD, BAD, GOOD])
    baseline = tmp_path / "baseline.json"
    card = _save(cli, feed, baseline)
    assert card["verdict"] == "Not conformant"
    plain = cli("validate", feed, "--standard", "mdss@1.0.0", "-f", "json")
    assert plain.code == 1
    again = cli("validate", feed, "--standard", "mdss@1.0.0", "-f", "json", "--baseline", baseline)
    assert again.code == 0, again.err
    assert "no regression against the baseline" in again.err


def test_a_new_failure_is_a_regression(cli: Any, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    _save(cli, _feed(tmp_path / "before", [GOOD, BAD, GOOD]), baseline)
    worse = _feed(tmp_path / "before", [GOOD, BAD, BAD])
    result = cli(
        "validate", worse, "--standard", "mdss@1.0.0", "-f", "json", "--baseline", baseline
    )
    assert result.code == 1
    assert "MDSS-ID-02: nhs-number-check-digit: 1 -> 2 finding(s)" in result.err
    assert "MDSS-ID-02: new nhs-number-check-digit at" in result.err
    assert "Patient.ndjson:line:3" in result.err


def test_an_improvement_passes_and_is_reported(cli: Any, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    _save(cli, _feed(tmp_path / "feed", [BAD, BAD]), baseline)
    better = _feed(tmp_path / "feed", [GOOD, BAD])
    result = cli(
        "validate", better, "--standard", "mdss@1.0.0", "-f", "json", "--baseline", baseline
    )
    assert result.code == 0, result.err
    assert "improvement" in result.err


def test_requirement_newly_not_met(tmp_path: Path) -> None:
    base = {
        "standard": {"id": "mdss", "version": "1.0.0"},
        "requirements": [
            {"id": "R-A-01", "level": "MUST", "status": "pass", "findings": {}, "codes": {}},
            {"id": "R-A-02", "level": "SHOULD", "status": "partial", "findings": {}, "codes": {}},
        ],
        "findings": [],
    }
    now = copy.deepcopy(base)
    now["requirements"][0]["status"] = "partial"
    now["requirements"][1]["status"] = "fail"
    result = compare(base, now)
    assert [(r.kind, r.requirement) for r in result.regressions] == [
        ("requirement", "R-A-01"),
        ("requirement", "R-A-02"),
    ]
    assert compare(now, base).ok
    now["standard"]["version"] = "1.1.0"
    assert "baseline judged by mdss@1.0.0, this run by mdss@1.1.0" in compare(base, now).notes


def _finding(line: int) -> dict[str, Any]:
    return {"requirement": "R-A-01", "code": "c", "location": {"file": "f.ndjson", "line": line}}


def _partial(rid: str, findings: int) -> dict[str, Any]:
    """A MUST partly met, with ``findings`` errors of code ``c``."""
    return {
        "id": rid,
        "level": "MUST",
        "status": "partial",
        "findings": {"error": findings},
        "codes": {"c": findings},
    }


def test_fingerprints_are_ignored_when_the_baseline_was_capped() -> None:
    req = _partial("R-A-01", 3)
    base = {"requirements": [req], "findings": [_finding(1), _finding(2)]}  # 1 not kept
    now = {"requirements": [req], "findings": [_finding(1), _finding(9)]}
    assert compare(base, now).ok  # same count; line 9 may be the one the baseline dropped
    base_full = {"requirements": [req], "findings": [_finding(1), _finding(2), _finding(3)]}
    now_full = {"requirements": [req], "findings": [_finding(1), _finding(2), _finding(9)]}
    result = compare(base_full, now_full)
    assert [r.kind for r in result.regressions] == ["finding"]


def test_fingerprint_uses_entry_or_row_when_there_is_no_line() -> None:
    f = {
        "requirement": "R",
        "code": "c",
        "location": {"file": "b.json", "entry": 4, "expression": "Patient.gender"},
    }
    assert fingerprint(f) == ("R", "c", "b.json", "entry:4", "Patient.gender")


def test_bad_baseline_file_is_a_usage_error(cli: Any, tmp_path: Path) -> None:
    feed = _feed(tmp_path / "feed", [GOOD])
    missing = cli("validate", feed, "--baseline", tmp_path / "nope.json")
    assert missing.code == 2 and "baseline scorecard not found" in missing.err
    (tmp_path / "x.json").write_text("[1]")
    wrong = cli("validate", feed, "--baseline", tmp_path / "x.json")
    assert wrong.code == 2 and "not a conformance JSON scorecard" in wrong.err
    assert patient()["resourceType"] == "Patient"


def test_the_path_spelling_does_not_change_the_fingerprints(
    cli: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """A baseline of ``feeds/qop`` matches ``./feeds/qop``, the absolute path, another cwd."""
    from tests.conftest import REPO

    work = tmp_path / "work"
    feed = work / "feeds" / "qop"
    shutil.copytree(REPO / "sample_feeds" / "qop-failing", feed)
    monkeypatch.chdir(work)
    baseline = tmp_path / "baseline.json"
    saved = _save(cli, Path("feeds/qop"), baseline)
    assert saved["feed"]["root"] == "feeds/qop"
    assert saved["feed"]["manifest"] == "manifest.json"
    files = {f["location"].get("file") for f in saved["findings"]}
    assert "Patient.ndjson" in files and not any("qop" in str(f) for f in files)
    spellings = [
        ("work", "./feeds/qop"),
        ("work", str(feed)),
        ("feeds", "qop"),
        ("feeds", "../feeds/qop/"),
    ]
    for cwd, spelling in spellings:
        monkeypatch.chdir(tmp_path / "work" if cwd == "work" else feed.parent)
        result = cli(
            "validate", spelling, "--standard", "mdss@1.0.0", "-f", "json", "--baseline", baseline
        )
        assert result.code == 0, (spelling, result.err[:500])
        assert "no regression against the baseline" in result.err
        card = result.json()
        assert {fingerprint(f) for f in card["findings"]} == {
            fingerprint(f) for f in saved["findings"]
        }


def test_a_baseline_saved_before_feed_relative_names_still_matches() -> None:
    """Scorecards without ``feed.root`` named files with the path as typed."""
    finding = {"requirement": "R", "code": "c", "location": {"file": "Patient.ndjson", "line": 2}}
    req = _partial("R", 1)
    now = {
        "feed": {"root": "/abs/feeds/qop", "manifest": "manifest.json"},
        "inputs": [{"file": "Patient.ndjson"}],
        "requirements": [req],
        "findings": [finding],
    }
    legacy_finding = copy.deepcopy(finding)
    legacy_finding["location"]["file"] = "./feeds/qop/Patient.ndjson"
    old = {
        "feed": {"manifest": "./feeds/qop/manifest.json"},
        "inputs": [{"file": "./feeds/qop/Patient.ndjson"}],
        "requirements": [req],
        "findings": [legacy_finding],
    }
    assert compare(old, now).ok
    moved = copy.deepcopy(now)
    moved["findings"][0]["location"]["line"] = 3
    assert [r.kind for r in compare(old, moved).regressions] == ["finding"]

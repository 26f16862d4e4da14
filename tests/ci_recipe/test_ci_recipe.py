"""The CI recipes in examples/ci run as written against the sample feeds."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "examples" / "ci"
SAMPLES = REPO / "sample_feeds"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash"),
]


def _github_steps() -> dict[str, str]:
    workflow = yaml.safe_load((RECIPES / "github-actions.yml").read_text())
    steps = workflow["jobs"]["validate"]["steps"]
    return {s["name"]: s["run"] for s in steps if "run" in s and "name" in s}


def _env(tmp_path: Path, feed: Path, baseline: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(
        {
            "FEED": str(feed),
            "BASELINE": str(baseline),
            "GITHUB_OUTPUT": str(tmp_path / "github_output"),
            "GITHUB_STEP_SUMMARY": str(tmp_path / "step_summary.md"),
        }
    )
    return env


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _run_github(tmp_path: Path, feed: Path, baseline: Path) -> tuple[int, Path]:
    """Run the validate, render and final steps; return the job's exit code."""
    work = tmp_path / "job"
    work.mkdir()
    env = _env(tmp_path, feed, baseline)
    steps = _github_steps()
    validate = _bash(steps["Validate feeds"], work, env)
    assert validate.returncode == 0, validate.stderr  # the step itself records the code
    render = _bash(steps["Render SARIF, annotations and job summary"], work, env)
    assert render.returncode == 0, render.stderr
    outputs = dict(
        line.split("=", 1) for line in (tmp_path / "github_output").read_text().splitlines()
    )
    final = steps["Fail on regressions (or on unmet MUSTs without a baseline)"].replace(
        "${{ steps.validate.outputs.exit_code }}", outputs["exit_code"]
    )
    return _bash(final, work, env).returncode, work


def test_github_recipe_on_a_conformant_feed(tmp_path: Path) -> None:
    code, work = _run_github(tmp_path, SAMPLES / "qwo-conformant", tmp_path / "none.json")
    assert code == 0
    sarif = json.loads((work / "conformance.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    card = json.loads((work / "scorecard.json").read_text())
    assert card["verdict"] == "Conformant"
    assert (tmp_path / "step_summary.md").read_text().strip()


def test_github_recipe_fails_without_baseline_and_passes_with_one(tmp_path: Path) -> None:
    feed = tmp_path / "qop"
    shutil.copytree(SAMPLES / "qop-failing", feed)
    (tmp_path / "first").mkdir()
    code, work = _run_github(tmp_path / "first", feed, tmp_path / "none.json")
    assert code == 1  # a MUST is not met and there is no baseline
    sarif = json.loads((work / "conformance.sarif").read_text())
    assert sarif["runs"][0]["results"]
    baseline = tmp_path / "baseline.json"
    shutil.copy(work / "scorecard.json", baseline)
    (tmp_path / "second").mkdir()
    code, _ = _run_github(tmp_path / "second", feed, baseline)
    assert code == 0  # nothing got worse than the baseline


def test_gitlab_recipe_with_a_baseline(tmp_path: Path) -> None:
    job = yaml.safe_load((RECIPES / "gitlab-ci.yml").read_text())["conformance"]
    script = "\n".join(line for line in job["script"] if "pip install" not in line)
    feed = tmp_path / "qop"
    shutil.copytree(SAMPLES / "qop-failing", feed)
    baseline = tmp_path / "baseline.json"
    env = _env(tmp_path, feed, baseline)
    no_baseline = _bash(script, tmp_path, env)
    assert no_baseline.returncode == 1, no_baseline.stderr
    shutil.copy(tmp_path / "scorecard.json", baseline)
    with_baseline = _bash(script, tmp_path, env)
    assert with_baseline.returncode == 0, with_baseline.stderr
    assert "no regression against the baseline" in with_baseline.stderr
    for report in job["artifacts"]["reports"].values():
        assert (tmp_path / report).stat().st_size > 0

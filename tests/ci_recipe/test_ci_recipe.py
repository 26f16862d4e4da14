"""The CI recipes in examples/ci run as written against the sample feeds.

Each recipe's steps run in a fresh virtual environment, as on a CI runner: its install
step too, exactly as written, with ``CONFORMANCE_PACKAGE`` pointed at this checkout
instead of the release tag (pip builds and installs the project from it, resolving the
dependencies from pip's configured index). Slow: it builds the project once.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ci_recipe.sarif_rules import upload_problems

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "examples" / "ci"
SAMPLES = REPO / "sample_feeds"
INSTALL = "Install conformance"
RENDER = "Render SARIF, annotations and job summary"
FINAL = "Fail on regressions (or on unmet MUSTs without a baseline)"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash"),
]


def _github() -> dict[str, Any]:
    workflow: dict[str, Any] = yaml.safe_load((RECIPES / "github-actions.yml").read_text())
    return workflow


def _github_steps() -> dict[str, str]:
    steps = _github()["jobs"]["validate"]["steps"]
    return {s["name"]: s["run"] for s in steps if "run" in s and "name" in s}


def _gitlab() -> dict[str, Any]:
    job: dict[str, Any] = yaml.safe_load((RECIPES / "gitlab-ci.yml").read_text())["conformance"]
    return job


def test_recipes_install_from_the_project_repository_never_the_bare_name() -> None:
    """``pip install conformance`` would fetch an unrelated project from the public index."""
    packages = [
        _github()["env"]["CONFORMANCE_PACKAGE"],
        _gitlab()["variables"]["CONFORMANCE_PACKAGE"],
    ]
    for package in packages:
        assert re.fullmatch(r"conformance @ git\+https://github\.com/[^/\s]+/[^/\s@]+@\S+", package)
    scripts = [*_github_steps().values(), *_gitlab()["script"]]
    installs = [line for s in scripts for line in s.splitlines() if "pip install" in line]
    assert installs == ['python -m pip install "$CONFORMANCE_PACKAGE"'] * 2
    text = (RECIPES / "github-actions.yml").read_text() + (RECIPES / "gitlab-ci.yml").read_text()
    assert "OWNER/REPO" in text and "unrelated project" in text  # the placeholder is explained


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A fresh virtual environment (Python and pip only) with the GitHub install step run."""
    venv = tmp_path_factory.mktemp("runner") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["CONFORMANCE_PACKAGE"] = f"conformance @ {REPO.as_uri()}"
    # the recipes are under test, not the compiled build (tests/packaging): the pure wheel
    # builds in seconds, the compiled one in minutes, and the recipes install it 3 times
    env["CONFORMANCE_PURE_PYTHON"] = "1"
    install = _bash(_github_steps()[INSTALL], tmp_path_factory.mktemp("install"), env)
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    found = shutil.which("conformance", path=str(venv / "bin"))
    assert found is not None and Path(found).parent == venv / "bin"
    return env


def _env(runner: dict[str, str], tmp_path: Path, feed: Path, baseline: Path) -> dict[str, str]:
    env = dict(runner)
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
        timeout=900,
        check=False,
    )


def _run_github(
    runner: dict[str, str], tmp_path: Path, feed: Path, baseline: Path
) -> tuple[int, Path]:
    """Run the validate, render and final steps; return the job's exit code."""
    work = tmp_path / "job"
    work.mkdir()
    env = _env(runner, tmp_path, feed, baseline)
    steps = _github_steps()
    validate = _bash(steps["Validate feeds"], work, env)
    assert validate.returncode == 0, validate.stderr  # the step itself records the code
    render = _bash(steps[RENDER], work, env)
    assert render.returncode == 0, render.stderr
    outputs = dict(
        line.split("=", 1) for line in (tmp_path / "github_output").read_text().splitlines()
    )
    final = steps[FINAL].replace("${{ steps.validate.outputs.exit_code }}", outputs["exit_code"])
    return _bash(final, work, env).returncode, work


def test_github_recipe_on_a_conformant_feed(runner: dict[str, str], tmp_path: Path) -> None:
    work = tmp_path / "job"
    feed = Path("feeds/qwo")
    shutil.copytree(SAMPLES / "qwo-conformant", work / feed)
    env = _env(runner, tmp_path, feed, tmp_path / "none.json")
    steps = _github_steps()
    assert _bash(steps["Validate feeds"], work, env).returncode == 0
    render = _bash(steps[RENDER], work, env)
    assert render.returncode == 0, render.stderr
    assert "::notice title=Conformant" in render.stdout
    sarif = json.loads((work / "conformance.sarif").read_text())
    assert upload_problems(sarif) == []
    card = json.loads((work / "scorecard.json").read_text())
    assert card["verdict"] == "Conformant"
    summary = (tmp_path / "step_summary.md").read_text()
    assert summary.count("## ✅ Conformant: score") == 1  # the job summary is written once


def test_github_recipe_fails_without_baseline_and_passes_with_one(
    runner: dict[str, str], tmp_path: Path
) -> None:
    feed = tmp_path / "qop"
    shutil.copytree(SAMPLES / "qop-failing", feed)
    (tmp_path / "first").mkdir()
    code, work = _run_github(runner, tmp_path / "first", feed, tmp_path / "none.json")
    assert code == 1  # a MUST is not met and there is no baseline
    sarif = json.loads((work / "conformance.sarif").read_text())
    assert sarif["runs"][0]["results"]
    assert upload_problems(sarif, relative_only=False) == []  # FEED is absolute here
    assert (tmp_path / "first" / "step_summary.md").read_text().count("## ❌ Not conformant") == 1
    baseline = tmp_path / "baseline.json"
    shutil.copy(work / "scorecard.json", baseline)
    (tmp_path / "second").mkdir()
    code, _ = _run_github(runner, tmp_path / "second", feed, baseline)
    assert code == 0  # nothing got worse than the baseline


def test_gitlab_recipe_with_a_baseline(runner: dict[str, str], tmp_path: Path) -> None:
    job = _gitlab()
    script = "\n".join(job["script"])  # every line as written, the install step included
    feed = tmp_path / "qop"
    shutil.copytree(SAMPLES / "qop-failing", feed)
    baseline = tmp_path / "baseline.json"
    env = _env(runner, tmp_path, feed, baseline)
    no_baseline = _bash(script, tmp_path, env)
    assert no_baseline.returncode == 1, no_baseline.stderr
    shutil.copy(tmp_path / "scorecard.json", baseline)
    with_baseline = _bash(script, tmp_path, env)
    assert with_baseline.returncode == 0, with_baseline.stderr
    assert "no regression against the baseline" in with_baseline.stderr
    for report in job["artifacts"]["reports"].values():
        assert (tmp_path / report).stat().st_size > 0

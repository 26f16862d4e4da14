"""`pre-commit try-repo` runs both hooks of .pre-commit-hooks.yaml on a throwaway repository.

pre-commit builds a virtualenv and pip-installs this project into it from a temporary git
copy of the working tree (so it works on a clean CI checkout and with uncommitted
changes), resolving the dependencies from pip's configured index. It takes a while: slow.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
FEED = REPO / "sample_feeds" / "qwo-conformant"
ODD = "-ICS QWO \u2013 Nov 2026 (ünïcødé)"
PRE_COMMIT = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or shutil.which(
    "pre-commit"
)
PROJECT_FILES = (
    "conformance",
    "standards",
    "pyproject.toml",
    "hatch_build.py",
    "README.md",
    ".pre-commit-hooks.yaml",
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit is not installed"),
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
]


def test_hooks_file_declares_both_hooks() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"conformance-feeds", "conformance-standards-lint"}
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["entry"] and hook["files"]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(
        {
            "PRE_COMMIT_HOME": str(home / "pre-commit-cache"),
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.org",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.org",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(home),
            # the hooks are under test, not the compiled build (tested in tests/packaging):
            # the pure wheel installs in seconds rather than minutes
            "CONFORMANCE_PURE_PYTHON": "1",
        }
    )
    return env


def _git(cwd: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def _hook_repo(tmp: Path, env: dict[str, str]) -> Path:
    """A git repository holding the working tree's project files, committed."""
    repo = tmp / "hook-repo"
    repo.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "_standards")
    for name in PROJECT_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=ignore)
        else:
            shutil.copy2(source, repo / name)
    _git(repo, env, "init", "-q")
    _git(repo, env, "add", "-A")
    _git(repo, env, "commit", "-q", "-m", "snapshot")
    return repo


def _user_repo(tmp: Path, env: dict[str, str]) -> Path:
    """A repository of feeds and a standard, as an ICS would keep them."""
    repo = tmp / "user-repo"
    shutil.copytree(FEED, repo / "feeds" / "good")
    bad = repo / "feeds" / "bad"
    shutil.copytree(FEED, bad)
    lines = (bad / "Patient.ndjson").read_text().splitlines()
    (bad / "Patient.ndjson").write_text("\n".join([*lines, "{not json"]) + "\n")
    shutil.copytree(FEED, repo / "feeds" / ODD)  # spaces, Unicode, a leading dash
    xml = repo / "feeds" / "xml feed"
    shutil.copytree(FEED, xml)
    (xml / "Extra.xml").write_text('<Patient xmlns="http://hl7.org/fhir"><id value="x"', "utf-8")
    shutil.copytree(
        REPO / "tests" / "authoring" / "fixtures" / "toy" / "1.0.0",
        repo / "standards" / "toy" / "1.0.0",
    )
    broken = repo / "standards" / "broken" / "1.0.0"
    broken.mkdir(parents=True)
    text = (repo / "standards" / "toy" / "1.0.0" / "standard.yaml").read_text()
    (broken / "standard.yaml").write_text(text.replace("level: SHOULD", "level: OUGHT"))
    _git(repo, env, "init", "-q")
    _git(repo, env, "add", "-A")
    return repo


def _try(
    hook_repo: Path, user_repo: Path, env: dict[str, str], hook: str, *files: str
) -> subprocess.CompletedProcess[str]:
    assert PRE_COMMIT is not None
    return subprocess.run(
        [PRE_COMMIT, "try-repo", str(hook_repo), hook, "--verbose", "--files", *files],
        cwd=user_repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_try_repo_runs_both_hooks(tmp_path: Path) -> None:
    env = _env(tmp_path)
    hook_repo = _hook_repo(tmp_path, env)
    user = _user_repo(tmp_path, env)

    good = _try(
        hook_repo,
        user,
        env,
        "conformance-feeds",
        "feeds/good/Patient.ndjson",
        "feeds/good/manifest.json",
    )
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout and "Conformant" in good.stdout

    bad = _try(hook_repo, user, env, "conformance-feeds", "feeds/bad/Patient.ndjson")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Not conformant" in bad.stdout and "MDSS-STR-01" in bad.stdout

    odd = _try(hook_repo, user, env, "conformance-feeds", f"feeds/{ODD}/Patient.ndjson")
    assert odd.returncode == 0, odd.stdout + odd.stderr
    assert "Passed" in odd.stdout and "Conformant" in odd.stdout

    xml = _try(hook_repo, user, env, "conformance-feeds", "feeds/xml feed/Extra.xml")
    assert xml.returncode == 1, xml.stdout + xml.stderr  # the XML file reached the hook
    assert "Not conformant" in xml.stdout and "Extra.xml" in xml.stdout

    lint_ok = _try(
        hook_repo, user, env, "conformance-standards-lint", "standards/toy/1.0.0/standard.yaml"
    )
    assert lint_ok.returncode == 0, lint_ok.stdout + lint_ok.stderr
    assert "toy@1.0.0: OK" in lint_ok.stdout

    lint_bad = _try(
        hook_repo,
        user,
        env,
        "conformance-standards-lint",
        "standards/broken/1.0.0/standard.yaml",
        "standards/toy/1.0.0/standard.yaml",
    )
    assert lint_bad.returncode == 1
    assert "'OUGHT' is not one of" in lint_bad.stdout

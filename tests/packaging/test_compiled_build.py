"""The compiled build (mypyc) is the one under test, and it gives the pure build's results.

The wheel compiles the hot path where it can (``hatch_build.py``). Under tox the tests
import that installed wheel, and ``CONFORMANCE_EXPECT_COMPILED=1`` (set in tox.ini) turns
"the compiled build is not installed" from a skip into a failure, so CI cannot pass
without testing it. The parity test runs the command line twice on the same feeds: the
installed compiled package, and a copy of the pure sources put first on ``PYTHONPATH``;
the JSON scorecards must be identical but for ``run`` (start time and duration).
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any

import pytest

import conformance
from conformance.checks.base import Check, Tally
from conformance.compiled import build_kind, compiled_modules
from conformance.samples import NOT_INJECTABLE, SUPPORTED_DEFECTS, generate_feed
from tests.checks.helpers import context, finish_context
from tests.conftest import REPO

EXPECT_COMPILED = os.environ.get("CONFORMANCE_EXPECT_COMPILED") == "1"
SAMPLES = ["qwo-conformant", "qr1-warnings", "qop-failing", "single/patient.json"]
SAMPLES += ["single/bundle.json"]
GENERATED = [(7, 40), (11, 90)]  # (seed, patients), every injectable defect at 5 %


def _require_compiled() -> None:
    if compiled_modules():
        return
    where = Path(conformance.__file__).parent
    message = (
        f"the compiled build is not installed (conformance is imported from {where}, "
        "pure Python): `pip install .` builds it where a C compiler is available"
    )
    if EXPECT_COMPILED:
        pytest.fail(f"CONFORMANCE_EXPECT_COMPILED=1 but {message}")
    pytest.skip(message)


def test_version_names_the_build(cli: Any) -> None:
    out = cli("version").out
    assert out.startswith("conformance ")
    assert f"build: {build_kind()}\n" in out
    assert ("compiled (mypyc" in out) == bool(compiled_modules())


def test_every_module_the_build_selects_is_compiled() -> None:
    """Each module hatch_build.py selects was compiled, and Python imports the compiled one."""
    _require_compiled()
    import hatch_build

    chosen, skipped = hatch_build.selected_modules(REPO)
    assert chosen
    names = [p.removesuffix(".py").replace("/", ".").removesuffix(".__init__") for p in chosen]
    assert sorted(names) == compiled_modules()
    for name in names:
        module = importlib.import_module(name)
        assert str(module.__file__).endswith(tuple(EXTENSION_SUFFIXES)), name
    for path in skipped:
        name = path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
        assert str(importlib.import_module(name).__file__).endswith(".py"), name


def _pure_sources(tmp: Path) -> Path:
    """A copy of the pure sources (no extension modules) with the standards beside them."""
    root = tmp / "pure-src"
    ignore = shutil.ignore_patterns(
        "__pycache__", "_standards", *(f"*{s}" for s in EXTENSION_SUFFIXES)
    )
    shutil.copytree(REPO / "conformance", root / "conformance", ignore=ignore)
    shutil.copytree(REPO / "standards", root / "standards")
    return root


def _cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def _card(env: dict[str, str], cwd: Path, target: str, jobs: int) -> tuple[int, dict[str, Any]]:
    done = _cli(env, cwd, "validate", target, "--format", "json", "--jobs", str(jobs))
    assert done.returncode in (0, 1), (target, done.stderr)
    card: dict[str, Any] = json.loads(done.stdout)
    card.pop("run")
    return done.returncode, card


@pytest.mark.slow
def test_compiled_and_pure_builds_give_identical_scorecards(tmp_path: Path) -> None:
    _require_compiled()
    base = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    compiled = {**base, "PYTHONDONTWRITEBYTECODE": "1"}
    pure = {**compiled, "PYTHONPATH": str(_pure_sources(tmp_path))}
    # each side really is the build it is meant to be
    assert "build: compiled (mypyc" in _cli(compiled, tmp_path, "version").stdout
    assert "build: pure Python" in _cli(pure, tmp_path, "version").stdout

    feeds = tmp_path / "feeds"
    shutil.copytree(REPO / "sample_feeds", feeds)
    targets = [f"feeds/{name}" for name in SAMPLES]
    defects = {d: 0.05 for d in SUPPORTED_DEFECTS if d not in NOT_INJECTABLE}
    for seed, patients in GENERATED:
        generate_feed(tmp_path / f"gen-{seed}", patients=patients, seed=seed, defects=defects)
        targets.append(f"gen-{seed}")

    statuses: set[str] = set()
    for target in targets:
        expected = _card(pure, tmp_path, target, jobs=1)
        assert _card(compiled, tmp_path, target, jobs=1) == expected, target
        if target.startswith("gen-"):  # workers pickle tasks and shares of compiled classes
            assert _card(compiled, tmp_path, target, jobs=2) == expected, target
        statuses.update(r["status"] for r in expected[1]["requirements"])
    assert {"pass", "partial", "fail"} <= statuses  # failing requirements are compared too


@dataclass(slots=True)
class _PluginState(Tally):
    extra: str | None = None


class _PluginCheck(Check[_PluginState]):
    def __init__(self) -> None:
        pass  # no requirement: only finish is called


def test_a_plugin_state_subclassing_tally_pickles_and_finishes() -> None:
    """A plugin's state, a slots dataclass subclassing Tally, keeps every field through a
    pickle (as shares travel from workers) and the base check's finish counts it."""
    state = _PluginState(extra="x")
    state.passed += 2
    state.checked += 3
    back = pickle.loads(pickle.dumps(state))
    assert (back.passed, back.checked, back.extra) == (2, 3, "x")
    measure = _PluginCheck().finish(back, finish_context(context()), lambda *a: None)
    assert (measure.numerator, measure.denominator) == (2, 3)

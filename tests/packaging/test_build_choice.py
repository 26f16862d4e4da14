"""Which wheel ``pip install .`` builds: compiled where it can be, pure otherwise, with a notice.

The README promises that a machine with no C compiler (or no Python headers) still
installs from the first command, getting the pure-Python wheel and a one-line reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import hatch_build
from tests.conftest import REPO


def test_the_pure_build_is_asked_for_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(hatch_build.PURE_ENV, "1")
    assert hatch_build.why_pure() == f"{hatch_build.PURE_ENV} is set"
    monkeypatch.setenv(hatch_build.PURE_ENV, "0")  # 0 means no
    monkeypatch.setenv("CC", "/nonexistent/cc")
    assert hatch_build.why_pure() != f"{hatch_build.PURE_ENV} is set"


def test_no_c_compiler_means_the_pure_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(hatch_build.PURE_ENV, raising=False)
    monkeypatch.setenv("CC", "/nonexistent/cc -O2")
    reason = hatch_build.why_pure()
    if reason is not None and "Python.h" in reason:
        pytest.skip("this interpreter has no headers: the compiler is not looked for")
    assert reason == "no C compiler (/nonexistent/cc not found)"


def test_no_python_headers_means_the_pure_build(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(hatch_build.PURE_ENV, raising=False)
    paths = {**sysconfig.get_paths(), "include": str(tmp_path)}  # a folder with no Python.h
    monkeypatch.setattr(hatch_build.sysconfig, "get_paths", lambda: paths)
    assert hatch_build.why_pure() == "the Python headers (Python.h) are not installed"


@pytest.mark.slow
def test_pip_builds_the_pure_wheel_where_there_is_no_compiler(tmp_path: Path) -> None:
    """End to end, as a user's ``pip install .`` would: no compiler, a pure wheel, a notice."""
    # this machine's pip settings (index, certificates) kept; only the compiler missing
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["CC"] = "/nonexistent/cc"
    out = tmp_path / "wheels"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(out), str(REPO)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    wheels = list(out.glob("conformance-*.whl"))
    assert len(wheels) == 1 and wheels[0].name.endswith("-py3-none-any.whl"), wheels
    assert "building the pure-Python wheel (no C compiler" in done.stdout + done.stderr
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = wheel.namelist()
    assert "conformance/fhir/validator.py" in names
    assert not [n for n in names if n.endswith((".so", ".pyd"))]

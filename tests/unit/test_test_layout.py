"""Every folder of tests is collected: none is named like one pytest skips by default.

pytest does not enter folders matching ``norecursedirs`` (``build``, ``dist``, ``venv``...),
so tests put in such a folder never run, silently (``tests/build`` once hid the compiled
build's tests this way).
"""

from __future__ import annotations

import fnmatch

import pytest

from tests.conftest import REPO


def test_no_test_folder_is_one_pytest_skips(request: pytest.FixtureRequest) -> None:
    patterns = list(request.config.getini("norecursedirs"))
    assert "build" in patterns  # the default list is the one in force
    tests = REPO / "tests"
    folders = {p.parent for p in tests.rglob("test_*.py")}
    skipped = sorted(
        str(folder.relative_to(tests))
        for folder in folders
        for part in folder.relative_to(tests).parts
        if any(fnmatch.fnmatch(part, pattern) for pattern in patterns)
    )
    assert folders and not skipped, skipped

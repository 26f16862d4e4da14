"""Whether this installation runs the compiled build (mypyc) or pure Python.

The wheel compiles the hot path with mypyc where a C compiler is available, else it is
pure Python (``hatch_build.py``); both give the same results. A compiled module is an
extension module next to its ``.py`` source, which Python then imports instead.
"""

from __future__ import annotations

import functools
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def compiled_modules() -> list[str]:
    """Dotted names of the conformance modules installed as compiled extension modules."""
    found: set[str] = set()
    for ending in {suffix.rsplit(".", 1)[-1] for suffix in EXTENSION_SUFFIXES}:
        for path in _PACKAGE.rglob(f"*.{ending}"):
            suffix = next((s for s in EXTENSION_SUFFIXES if path.name.endswith(s)), None)
            if suffix is None:
                continue
            parts = path.relative_to(_PACKAGE.parent).parts
            name = ".".join([*parts[:-1], path.name[: -len(suffix)]])
            found.add(name.removesuffix(".__init__"))
    return sorted(found)


@functools.cache
def build_kind() -> str:
    """``compiled (mypyc, N modules)`` or ``pure Python`` (an installation does not change
    while it runs)."""
    count = len(compiled_modules())
    return f"compiled (mypyc, {count} modules)" if count else "pure Python"

"""A small on-disk cache of facts that are expensive to re-establish on every start.

Today it remembers which ``standard.yaml`` texts have already passed the standard schema:
checking needs jsonschema, whose import alone costs about a fifth of a second, and a
standard's text seldom changes between runs. The key is the sha256 of the schema and the
text together, so any edit to either is checked again. The cache is best effort: when
its folder cannot be written, everything still works, only slower.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

VALIDATED_FILE = "validated-standards"


def cache_dir() -> Path:
    explicit = os.environ.get("CONFORMANCE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "conformance"


def digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


@functools.cache
def _validated(folder: Path) -> set[str]:
    try:
        return set((folder / VALIDATED_FILE).read_text(encoding="ascii").split())
    except (OSError, UnicodeDecodeError):
        return set()


def is_validated(key: str) -> bool:
    return key in _validated(cache_dir())


def mark_validated(key: str) -> None:
    folder = cache_dir()
    known = _validated(folder)
    if key in known:
        return
    known.add(key)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / VALIDATED_FILE).open("a", encoding="ascii") as out:
            out.write(key + "\n")
    except OSError:
        pass

"""Group command-line inputs into runs: one per feed, and one for the loose files.

A *feed* is a folder with ``manifest.json`` at its root, or an archive (``.zip``,
``.tar.gz``, ``.tgz``, ``.tar``) of one. Each feed given is validated on its own, with its
own manifest and the standard it declares. A folder without a manifest is searched for
feeds below it; the files that belong to no feed (and any loose file, or ``-`` for
standard input) form one more run, the *loose files*. The engine is called once per run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from conformance.errors import InputError, UsageError
from conformance.feed import MANIFEST_FILE
from conformance.readers.archive import is_archive
from conformance.readers.discovery import IGNORED_SUFFIXES, STDIN

LOOSE_LABEL = "loose files"


@dataclass(slots=True)
class RunInputs:
    """The inputs of one run, as given (or as found under a folder given)."""

    label: str
    """How summaries name the run: the feed's path, or ``loose files``."""
    inputs: list[str] = field(default_factory=list)
    is_feed: bool = True


@dataclass(slots=True)
class _Scan:
    feeds: list[str] = field(default_factory=list)
    loose: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def is_feed_root(path: Path) -> bool:
    return (path / MANIFEST_FILE).is_file()


def feed_root_of(path: Path) -> Path | None:
    """The feed a file belongs to: the nearest folder above it with a manifest (or None)."""
    folder = path.parent
    while True:
        if is_feed_root(folder):
            return folder
        if folder.parent == folder or folder == Path("."):
            return None
        folder = folder.parent


def _walk(raw: str) -> Iterator[tuple[str, bool]]:
    """``(path, is_dir)`` below ``raw`` in a stable order: folders holding a manifest and
    archives are yielded as feeds (not entered); other files one by one."""
    root = Path(raw)
    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        dirs.sort()
        keep = []
        for name in dirs:
            if name.startswith("."):
                continue
            if is_feed_root(here / name) and not (here / name).is_symlink():
                yield str(here / name), True
            else:
                keep.append(name)
        dirs[:] = keep
        for name in sorted(files):
            if not name.startswith(".") and not name.lower().endswith(IGNORED_SUFFIXES):
                yield str(here / name), False


def _scan(raw: str) -> _Scan:
    """What a folder without a manifest holds: feeds below it, and loose files."""
    scan = _Scan()
    real_root = Path(raw).resolve()
    for path, is_dir in _walk(raw):
        if is_dir or is_archive(Path(path)):
            scan.feeds.append(path)
        elif Path(path).is_symlink() and not Path(path).resolve().is_relative_to(real_root):
            scan.skipped.append(path)  # never follow a link out of the folder given
        else:
            scan.loose.append(path)
    return scan


def group_inputs(inputs: Sequence[str]) -> tuple[list[RunInputs], list[str]]:
    """The runs for ``inputs`` in the order given, and any files skipped (links out).

    Raises :class:`InputError` for a missing path and :class:`UsageError` for a folder
    with nothing to validate ("no inputs found").
    """
    runs: list[RunInputs] = []
    loose: RunInputs | None = None
    seen: set[str] = set()
    skipped: list[str] = []

    def add_feed(path: str) -> None:
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            runs.append(RunInputs(os.path.normpath(path), [path]))

    def add_loose(path: str) -> None:
        nonlocal loose
        key = path if path == STDIN else os.path.realpath(path)
        if key in seen:
            return
        seen.add(key)
        if loose is None:
            loose = RunInputs(LOOSE_LABEL, is_feed=False)
            runs.append(loose)
        loose.inputs.append(path)

    for raw in inputs:
        if raw == STDIN:
            add_loose(raw)
            continue
        path = Path(raw)
        if not path.exists():
            raise InputError(f"{raw}: no such file or folder")
        if path.is_dir() and is_feed_root(path):
            add_feed(raw)
        elif path.is_dir():
            scan = _scan(raw)
            if not scan.feeds and not scan.loose:
                raise UsageError(
                    f"{raw}: no inputs found (the folder holds no feed files: FHIR JSON, "
                    "NDJSON, XML, CSV, archives)"
                )
            if not scan.feeds:
                add_loose(raw)  # one folder of loose files: named relative to it
                continue
            skipped += scan.skipped
            for feed in scan.feeds:
                add_feed(feed)
            for file in scan.loose:
                add_loose(file)
        elif is_archive(path):
            add_feed(raw)
        else:
            add_loose(raw)
    return runs, skipped

"""Turn command-line inputs (files, folders, ``-``) into sources to read."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from conformance.errors import InputError
from conformance.feed import MANIFEST_FILE, FeedInfo, read_manifest
from conformance.findings import Location, Severity
from conformance.limits import Limits
from conformance.readers.base import Source, SourceIssue
from conformance.readers.opening import source_for_file, source_for_stdin

IGNORED_SUFFIXES = (".md",)
"""Documentation beside feed files (READMEs) is not feed content."""


@dataclass(slots=True)
class Inputs:
    """What was found under the inputs: the sources, the feed manifest, and any problems."""

    sources: list[Path | str] = field(default_factory=list)
    feed: FeedInfo = field(default_factory=FeedInfo)
    issues: list[SourceIssue] = field(default_factory=list)


def _walk(root: Path, limits: Limits, issues: list[SourceIssue]) -> Iterator[Path]:
    """Files under ``root`` in a stable order; links out of the tree are not followed."""
    real_root = root.resolve()
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(real_root):
                    issues.append(
                        SourceIssue(
                            "link-outside-input",
                            "a symbolic link pointing outside the input folder was not followed",
                            Location(str(path)),
                            Severity.WARNING,
                        )
                    )
                    continue
            yield path


def find_inputs(inputs: Sequence[str], limits: Limits) -> Inputs:
    """Expand the inputs; a missing path is an :class:`InputError` (nothing to validate)."""
    found = Inputs()
    count = 0
    for raw in inputs:
        if raw == "-":
            found.sources.append("-")
            continue
        path = Path(raw)
        if not path.exists():
            raise InputError(f"{raw}: no such file or folder")
        if path.is_dir():
            manifest = path / MANIFEST_FILE
            if manifest.is_file() and found.feed.manifest is None:
                found.feed = read_manifest(manifest, _display(manifest, path))
            for file in _walk(path, limits, found.issues):
                if file == manifest or file.name.lower().endswith(IGNORED_SUFFIXES):
                    continue
                count += 1
                if count > limits.max_files:
                    found.issues.append(
                        SourceIssue(
                            "limit-exceeded",
                            f"more than {limits.max_files} files in the inputs; the rest were "
                            "not read",
                            Location(str(file)),
                        )
                    )
                    return found
                found.sources.append(file)
        elif path.is_file():
            count += 1
            found.sources.append(path)
        else:
            raise InputError(f"{raw}: not a regular file or folder")
    return found


def _display(path: Path, root: Path) -> str:
    return str(path)


def open_source(item: Path | str, limits: Limits) -> Source:
    if item == "-":
        return source_for_stdin(limits)
    assert isinstance(item, Path)
    try:
        return source_for_file(item, str(item), limits)
    except OSError as exc:
        raise InputError(f"{item}: cannot be read: {exc.strerror or exc}") from None

"""Feeds packed as ``.zip`` or ``.tar.gz``: extracted safely into a temporary folder.

Members may not escape the folder (absolute paths, ``..``), links and device files are
refused, and the number of files and the bytes extracted are bounded by the run's limits,
so an archive bomb is stopped and reported, never a crash.
"""

from __future__ import annotations

import functools
import lzma
import shutil
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO

from conformance.findings import Location, Severity
from conformance.limits import Limits
from conformance.readers.base import SourceIssue

ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
ARCHIVE_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    tarfile.TarError,
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,  # a zip compression method Python does not have
    RuntimeError,  # an encrypted zip member
)
"""What reading a corrupt, truncated or unusual archive can raise."""


def is_archive(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def _safe_name(name: str) -> PurePosixPath | None:
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        return None
    return pure


RATIO_FLOOR = 16 * 1024 * 1024
"""Output below this is never refused for its ratio (as for gzip inputs)."""


class _Budget:
    def __init__(self, archive: str, limits: Limits, stored: int) -> None:
        self.archive = archive
        self.limits = limits
        self.stored = max(1, stored)
        """The archive's size on disk, for the decompression ratio limit."""
        self.files = 0
        self.bytes = 0

    def copy(self, source: object, target: Path, issues: list[SourceIssue], member: str) -> bool:
        """Extract one member; a member cut short (limit, corruption) is not left behind."""
        try:
            done = self._copy(source, target, issues, member)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        if not done:
            target.unlink(missing_ok=True)
        return done

    def _copy(self, source: object, target: Path, issues: list[SourceIssue], member: str) -> bool:
        with target.open("wb") as out:
            while True:
                chunk = source.read(1 << 20)  # type: ignore[attr-defined]
                if not chunk:
                    return True
                self.bytes += len(chunk)
                if self.bytes > self.limits.max_decompressed_bytes:
                    issues.append(
                        SourceIssue(
                            "limit-exceeded",
                            "the archive expands beyond "
                            f"{self.limits.max_decompressed_bytes} bytes; extraction stopped",
                            Location(f"{self.archive}/{member}"),
                        )
                    )
                    return False
                if self.bytes > RATIO_FLOOR and self.bytes / self.stored > self.limits.max_ratio:
                    issues.append(
                        SourceIssue(
                            "limit-exceeded",
                            f"the archive expands more than {self.limits.max_ratio}:1 "
                            "(a compression bomb?); extraction stopped",
                            Location(f"{self.archive}/{member}"),
                        )
                    )
                    return False
                out.write(chunk)


MemberOpener = Callable[[], IO[bytes] | None]


def _members(path: Path) -> Iterator[tuple[str, str, MemberOpener]]:
    """``(name, kind, opener)`` of each member of a zip or tar archive, in archive order.

    ``kind`` is ``file``, ``dir``, or ``other`` (links, devices): one loop then applies the
    same safety rules to both formats.
    """
    if path.name.lower().endswith(".zip"):
        with zipfile.ZipFile(path) as zipped:
            for info in zipped.infolist():
                if not info.filename:
                    kind = "file"  # refused by name: is_dir() fails on an empty name
                elif info.is_dir():
                    kind = "dir"
                elif (info.external_attr >> 16) & 0o170000 == 0o120000:
                    kind = "other"
                else:
                    kind = "file"
                yield info.filename, kind, functools.partial(zipped.open, info)
        return
    with tarfile.open(path, "r:*") as archive:
        for tinfo in archive:
            kind = "dir" if tinfo.isdir() else "file" if tinfo.isfile() else "other"
            yield tinfo.name, kind, functools.partial(archive.extractfile, tinfo)


def extract_archive(path: Path, dest: Path, limits: Limits) -> tuple[Path, list[SourceIssue]]:
    """Extract ``path`` into ``dest``; return the feed root inside it and any problems."""
    issues: list[SourceIssue] = []
    display = str(path)
    budget = _Budget(display, limits, path.stat().st_size)

    def too_many() -> SourceIssue:
        return SourceIssue(
            "limit-exceeded",
            f"more than {limits.max_files} files in the archive",
            Location(display),
        )

    def refuse(member: str, why: str) -> None:
        issues.append(
            SourceIssue(
                "unsafe-archive-member",
                f"archive member not extracted: {why}",
                Location(f"{display}/{member}"),
                Severity.ERROR,
            )
        )

    try:
        for name, kind, open_member in _members(path):
            safe = _safe_name(name)
            if safe is None:
                refuse(name, "its path leaves the archive's folder")
                continue
            if kind == "dir":
                continue
            if kind != "file":
                refuse(name, "it is a link or a special file")
                continue
            budget.files += 1
            if budget.files > limits.max_files:
                issues.append(too_many())
                break
            member = open_member()
            if member is None:
                continue
            target = dest.joinpath(*safe.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with member:
                if not budget.copy(member, target, issues, name):
                    break
    except ARCHIVE_ERRORS as exc:
        issues.append(
            SourceIssue(
                "unreadable-input",
                f"the archive is corrupt or truncated ({type(exc).__name__}); "
                "members after this point were not read",
                Location(display),
            )
        )
    entries = [p for p in dest.iterdir() if not p.name.startswith(".")]
    root = entries[0] if len(entries) == 1 and entries[0].is_dir() else dest
    return root, issues


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)

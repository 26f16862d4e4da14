"""Turn command-line inputs (files, folders, archives, ``-``) into sources to read."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from conformance.errors import InputError
from conformance.feed import MANIFEST_FILE, FeedInfo, read_manifest
from conformance.findings import Location, Severity
from conformance.limits import Limits
from conformance.readers.archive import extract_archive, is_archive, remove_tree
from conformance.readers.base import Source, SourceIssue
from conformance.readers.opening import source_for_file, source_for_stdin

IGNORED_SUFFIXES = (".md",)
"""Documentation beside feed files (READMEs) is not feed content."""

STDIN = "-"


@dataclass(slots=True)
class InputItem:
    """One file to read: where it is, and the stable name findings give it."""

    path: Path | None
    name: str
    relative: str | None = None
    """Its path relative to the feed root (for matching manifest entries)."""


@dataclass(slots=True)
class Inputs:
    """What was found under the inputs: the items, the feed manifest, and any problems."""

    items: list[InputItem] = field(default_factory=list)
    feed: FeedInfo = field(default_factory=FeedInfo)
    issues: list[SourceIssue] = field(default_factory=list)
    temporary: list[Path] = field(default_factory=list)
    """Folders that archives were extracted into; removed by :meth:`cleanup`."""
    root: str | None = None
    """The folder (or archive) that item names are relative to, as given: the input itself
    for one folder or archive, else the folder common to the inputs (None for stdin alone)."""

    def cleanup(self) -> None:
        for folder in self.temporary:
            remove_tree(folder)
        self.temporary.clear()


def _walk(root: Path, issues: list[SourceIssue], display: str) -> Iterator[Path]:
    """Files under ``root`` in a stable order; every entry not read is reported.

    Links out of the tree are not followed, links to folders are not entered (their files
    are read through the folder itself), pipes and devices are not opened, and a folder
    that cannot be listed, a link that loops and a name that is not UTF-8 each become a
    finding naming them: nothing is skipped in silence.
    """
    real_root = os.path.realpath(root)

    def report(path: str, code: str, message: str) -> None:
        relative = os.path.relpath(path, root).replace(os.sep, "/")
        where = Location(_join(display, relative))
        issues.append(SourceIssue(code, message, where, Severity.WARNING))

    def inside(path: str) -> bool:
        target = os.path.realpath(path)
        return target == real_root or target.startswith(real_root.rstrip(os.sep) + os.sep)

    pending = [str(root)]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            report(
                folder,
                "unreadable-folder",
                f"the folder could not be read ({exc.strerror or type(exc).__name__}); "
                "the files in it were not read",
            )
            continue
        folders: list[str] = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if _NOT_UTF8.search(entry.name):
                report(
                    entry.path, "name-not-utf8", "the name is not valid UTF-8; it is shown escaped"
                )
            try:
                if entry.is_symlink():
                    if not inside(entry.path):
                        report(entry.path, "link-outside-input", _LINK_OUT)
                        continue
                    if entry.is_dir():
                        continue  # read through the folder it points to
                elif entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
                    continue
                if not entry.is_file():  # a pipe or device would block or never end
                    message = "not a regular file (or a link that loops); it was not read"
                    report(entry.path, "not-a-regular-file", message)
                    continue
            except OSError as exc:
                message = f"it could not be examined ({exc.strerror or type(exc).__name__})"
                report(entry.path, "unreadable-input", message)
                continue
            yield Path(entry.path)
        pending.extend(reversed(folders))


_NOT_UTF8 = re.compile("[\udc80-\udcff]")
"""How Python keeps the bytes of a file name that is not UTF-8 (``surrogateescape``)."""
_LINK_OUT = "a symbolic link pointing outside the input folder was not followed"


def _join(display: str, relative: str) -> str:
    return relative if display == "." else f"{display.rstrip('/')}/{relative}"


def _common_root(inputs: Sequence[str]) -> str | None:
    """The folder names are relative to: a folder or archive given alone is its own root;
    otherwise the deepest folder holding every input (so names stay distinct)."""
    bases = []
    for raw in inputs:
        if raw == STDIN:
            continue
        path = Path(raw)
        whole = path.is_dir() or (path.is_file() and is_archive(path))
        bases.append(os.path.normpath(raw if whole else os.path.dirname(raw) or "."))
    if not bases:
        return None
    if len({os.path.isabs(b) for b in bases}) > 1:
        bases = [os.path.abspath(b) for b in bases]
    return os.path.commonpath(bases) or "."


def _relative_to(root: str | None, raw: str) -> str:
    """``raw`` relative to ``root`` (``.`` when it is the root), with forward slashes."""
    if root is None:
        return raw
    if os.path.isabs(root) != os.path.isabs(raw):
        raw = os.path.abspath(raw)
    return Path(os.path.relpath(os.path.normpath(raw), root)).as_posix()


def find_inputs(inputs: Sequence[str], limits: Limits) -> Inputs:
    """Expand the inputs; a missing path is an :class:`InputError` (nothing to validate).

    Items are named relative to :attr:`Inputs.root`, so a feed's findings carry the same
    names however its path was written (``feed``, ``./feed``, absolute, another folder).
    """
    found = Inputs()
    try:
        for raw in inputs:
            if raw == STDIN:
                continue
            try:
                exists = Path(raw).exists()
            except (OSError, ValueError) as exc:
                reason = getattr(exc, "strerror", None) or "not a usable path"
                raise InputError(f"{raw}: {reason}") from None
            if not exists:
                raise InputError(f"{raw}: no such file or folder")
        found.root = _common_root(inputs)
        for raw in inputs:
            if raw == STDIN:
                found.items.append(InputItem(None, "<stdin>"))
                continue
            path = Path(raw)
            display = _relative_to(found.root, raw)
            if path.is_file() and is_archive(path):
                temp = Path(tempfile.mkdtemp(prefix="conformance-"))
                found.temporary.append(temp)
                root, problems = extract_archive(path, temp, limits)
                found.issues.extend(_renamed(problems, str(path), display))
                _add_folder(found, root, display, limits)
            elif path.is_dir():
                _add_folder(found, path, display, limits)
            elif path.is_file():
                found.items.append(InputItem(path, display))
            else:
                raise InputError(f"{raw}: not a regular file or folder")
            if len(found.items) > limits.max_files:
                del found.items[limits.max_files :]
                found.issues.append(
                    SourceIssue(
                        "limit-exceeded",
                        f"more than {limits.max_files} files in the inputs; the rest were not read",
                        Location(display),
                    )
                )
                break
    except BaseException:
        found.cleanup()
        raise
    found.feed.source = found.root
    return found


def _add_folder(found: Inputs, root: Path, display: str, limits: Limits) -> None:
    manifest = root / MANIFEST_FILE
    is_feed_root = manifest.is_file() and found.feed.manifest is None
    if is_feed_root:
        found.feed = read_manifest(manifest, _join(display, MANIFEST_FILE))
    for file in _walk(root, found.issues, display):
        if file == manifest or file.name.lower().endswith(IGNORED_SUFFIXES):
            continue
        relative = file.relative_to(root).as_posix()
        found.items.append(
            InputItem(file, _join(display, relative), relative if is_feed_root else None)
        )
        if len(found.items) > limits.max_files:
            return


def _renamed(issues: list[SourceIssue], old: str, display: str) -> list[SourceIssue]:
    """Archive problems named like the archive's members (relative to the run's root)."""
    out = []
    for issue in issues:
        name = issue.location.file
        if name is not None and name.startswith(old):
            member = name[len(old) :].lstrip("/")
            file = (_join(display, member) if member else display).removeprefix("./")
            location = replace(issue.location, file=None if file == "." else file)
            issue = replace(issue, location=location)
        out.append(issue)
    return out


def open_source(item: InputItem, limits: Limits) -> Source:
    if item.path is None:
        return source_for_stdin(limits)
    try:
        return source_for_file(item.path, item.name, limits)
    except OSError as exc:
        raise InputError(f"{item.name}: cannot be read: {exc.strerror or exc}") from None

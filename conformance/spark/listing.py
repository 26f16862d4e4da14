"""List a Spark run's inputs through Hadoop's file systems (local, HDFS, S3, ADLS, GCS...).

The listing mirrors :func:`conformance.readers.discovery.find_inputs`: folders are walked
recursively in sorted order, hidden entries and ``*.md`` are skipped, the first folder's
``manifest.json`` makes it the feed root, and files get the same names (relative to the
folder common to the inputs), so findings point where a local run's do.
Globs (``s3a://bucket/feed/*.ndjson``) are expanded by Hadoop.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.errors import InputError
from conformance.feed import MANIFEST_FILE, FeedInfo, read_manifest
from conformance.findings import Location
from conformance.limits import Limits
from conformance.readers.archive import ARCHIVE_SUFFIXES
from conformance.readers.base import SourceIssue
from conformance.readers.discovery import IGNORED_SUFFIXES

GLOB_CHARS = frozenset("*?[]{}")


@dataclass(frozen=True, slots=True)
class ListedFile:
    uri: str
    """Fully qualified, as Hadoop names it (``file:/data/feed/Patient.ndjson``)."""
    name: str
    """What findings call it (as a local run would)."""
    relative: str | None
    size: int


@dataclass(slots=True)
class Listing:
    files: list[ListedFile] = field(default_factory=list)
    feed: FeedInfo = field(default_factory=FeedInfo)
    issues: list[SourceIssue] = field(default_factory=list)
    temporary: list[tempfile.TemporaryDirectory[str]] = field(default_factory=list)
    """Holds a local copy of a remote manifest while the run needs it."""

    def cleanup(self) -> None:
        for folder in self.temporary:
            folder.cleanup()
        self.temporary.clear()


def _join(display: str, relative: str) -> str:
    return f"{display.rstrip('/')}/{relative}"


class _Hadoop:
    def __init__(self, sc: Any) -> None:
        self.jvm = sc._jvm
        self.conf = sc._jsc.hadoopConfiguration()

    def path(self, text: str) -> Any:
        return self.jvm.org.apache.hadoop.fs.Path(text)

    def fs(self, path: Any) -> Any:
        return path.getFileSystem(self.conf)

    def read_bytes(self, fs: Any, path: Any) -> bytes:
        stream = fs.open(path)
        try:
            return bytes(self.jvm.org.apache.commons.io.IOUtils.toByteArray(stream))
        finally:
            stream.close()


def list_inputs(sc: Any, inputs: list[str], limits: Limits) -> Listing:
    """Expand ``inputs`` (files, folders, globs; any Hadoop URI) into the files to read."""
    hadoop = _Hadoop(sc)
    listing = Listing()
    bases: list[str] = []
    try:
        for raw in inputs:
            bases.extend(_add_input(hadoop, listing, raw))
            if len(listing.files) > limits.max_files:
                del listing.files[limits.max_files :]
                listing.issues.append(
                    SourceIssue(
                        "limit-exceeded",
                        f"more than {limits.max_files} files in the inputs; the rest were not read",
                        Location(raw),
                    )
                )
                break
    except BaseException:
        listing.cleanup()
        raise
    _rebase(listing, bases)
    return listing


def _rebase(listing: Listing, bases: list[str]) -> None:
    """Name files relative to the folder common to the inputs, as a local run does."""
    split = [base.rstrip("/").split("/") for base in bases]
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    root = "/".join(common) or ("/" if split and all(p[:1] == [""] for p in split) else ".")
    listing.feed.source = root
    if root == ".":
        return
    prefix = root.rstrip("/") + "/"
    listing.files = [
        ListedFile(f.uri, f.name.removeprefix(prefix), f.relative, f.size) for f in listing.files
    ]
    if listing.feed.manifest is not None:
        listing.feed.manifest = listing.feed.manifest.removeprefix(prefix)


def _add_input(hadoop: _Hadoop, listing: Listing, raw: str) -> list[str]:
    """Add the files of one input; return the folders its names are relative to."""
    path = hadoop.path(raw)
    fs = hadoop.fs(path)
    is_glob = any(c in GLOB_CHARS for c in raw)
    statuses = fs.globStatus(path) if is_glob else _status(fs, path)
    if not statuses:
        raise InputError(f"{raw}: no such file or folder")
    bases = []
    for status in sorted(statuses, key=lambda s: str(s.getPath().toString())):
        display = _glob_display(raw, status) if is_glob else raw
        if status.isDirectory():
            _add_folder(hadoop, fs, listing, status, display)
            bases.append(display)
        else:
            _add_file(listing, status, display, None)
            bases.append(display.rpartition("/")[0] or ".")
    return bases


def _status(fs: Any, path: Any) -> list[Any]:
    return [fs.getFileStatus(path)] if fs.exists(path) else []


def _glob_display(raw: str, status: Any) -> str:
    """A glob match named as a shell would expand it, when the glob is in the last part."""
    head, _, _name = raw.rpartition("/")
    if any(c in GLOB_CHARS for c in head):
        return str(status.getPath().toString())
    name = str(status.getPath().getName())
    return f"{head}/{name}" if head or raw.startswith("/") else name


def _add_file(listing: Listing, status: Any, name: str, relative: str | None) -> None:
    if name.lower().endswith(ARCHIVE_SUFFIXES):
        raise InputError(f"{name}: archives are not read in Spark runs; extract them first")
    listing.files.append(
        ListedFile(str(status.getPath().toString()), name, relative, int(status.getLen()))
    )


def _add_folder(hadoop: _Hadoop, fs: Any, listing: Listing, root: Any, display: str) -> None:
    children = {str(s.getPath().getName()): s for s in fs.listStatus(root.getPath())}
    manifest = children.get(MANIFEST_FILE)
    is_feed_root = manifest is not None and manifest.isFile() and listing.feed.manifest is None
    if is_feed_root:
        listing.feed = _read_manifest(hadoop, fs, listing, manifest, _join(display, MANIFEST_FILE))
    for relative, status in _walk(fs, root, ""):
        if relative == MANIFEST_FILE or relative.lower().endswith(IGNORED_SUFFIXES):
            continue
        _add_file(listing, status, _join(display, relative), relative if is_feed_root else None)


def _walk(fs: Any, folder: Any, prefix: str) -> Any:
    """Files under ``folder`` in the order of a local run: a folder's files, then its
    sub-folders, each sorted by name."""
    entries = sorted(
        ((str(s.getPath().getName()), s) for s in fs.listStatus(folder.getPath())),
        key=lambda pair: pair[0],
    )
    entries = [(name, s) for name, s in entries if not name.startswith(".")]
    for name, status in entries:
        if status.isFile():
            yield prefix + name, status
    for name, status in entries:
        if status.isDirectory():
            yield from _walk(fs, status, f"{prefix}{name}/")


def _read_manifest(
    hadoop: _Hadoop, fs: Any, listing: Listing, status: Any, display: str
) -> FeedInfo:
    """Copy the manifest to the driver's disk and read it as a local run does."""
    folder = tempfile.TemporaryDirectory(prefix="conformance-spark-")
    listing.temporary.append(folder)
    local = Path(folder.name) / MANIFEST_FILE
    local.write_bytes(hadoop.read_bytes(fs, status.getPath()))
    return read_manifest(local, display)

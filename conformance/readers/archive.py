"""Feeds packed as ``.zip`` or ``.tar`` (plain, gzip, bzip2, xz): extracted safely.

Each member is vetted before a byte is written: tar members by :func:`tarfile.data_filter`
(Python's own extraction filter: no absolute paths, nothing outside the folder, no links
out, no device files), zip members by the same rules, and links of any kind are refused.
The bytes written are then bounded *while writing*, by the project's own budget:

- the decompression ratio is measured per member and over the whole archive against the
  compressed bytes actually consumed so far, so a 4 MB bomb stops after
  :data:`RATIO_FLOOR` of output, not after gigabytes;
- the total size is bounded by ``max-decompressed-bytes`` and the member count by
  ``max-files``;
- no single read of archive structure (a tar long-name or pax header) may exceed
  :data:`MAX_HEADER_BYTES`, so a header that claims gigabytes is refused before it is read.

Every member is read or reported: a duplicate name is extracted beside the first
(``name (duplicate 2).ndjson``) and reported; a member that cannot be written (a name
too long, a file where a folder is needed) is reported and the next one is read.
"""

from __future__ import annotations

import bz2
import contextlib
import io
import lzma
import shutil
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, cast

from conformance.findings import Location, Severity
from conformance.limits import Limits
from conformance.readers.base import SourceIssue
from conformance.readers.opening import Inflater

ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz")
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

RATIO_FLOOR = 16 * 1024 * 1024
"""Output below this (per member, and in all) is never refused for its ratio."""
MAX_HEADER_BYTES = 1024 * 1024
"""Largest single read of archive structure (tar long names, pax headers)."""
CHUNK = 64 * 1024
"""Bytes of a member written at a time: the limits are checked after each."""
RAW_READ = 16 * 1024
"""Most compressed bytes consumed at a time, so the ratio is measured to within this."""


def is_archive(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


class ArchiveLimit(Exception):
    """A limit was reached while extracting; the message says which."""


class _Counting(io.RawIOBase):
    """The archive file as stored, read :data:`RAW_READ` bytes at most at a time and
    counting the bytes consumed (for the ratio limits)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self.raw.seekable()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(min(len(buffer), RAW_READ))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


class _HeaderGuard(io.RawIOBase):
    """The decompressed tar stream; a single read above MAX_HEADER_BYTES is refused.

    tarfile reads a long-name or pax header in one ``read(size)`` of the size the header
    claims; member data is read in chunks of at most :data:`CHUNK`.
    """

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.inner.seek(offset, whence)

    def tell(self) -> int:
        return self.inner.tell()

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > MAX_HEADER_BYTES:
            raise ArchiveLimit(
                f"a tar header claims more than {MAX_HEADER_BYTES} bytes (a long name or "
                "extended header); the rest of the archive was not read"
            )
        return self.inner.read(size)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


@dataclass(slots=True)
class _Member:
    name: str
    kind: str
    """``file``, ``dir``, or ``other`` (links, devices)."""
    open: Callable[[], IO[bytes] | None]
    refused: str | None = None
    """Why an extraction filter refused it, if it did."""
    compressed: int | None = None
    """Its compressed size when the format says (zip), for the report."""


class _Meter:
    """Compressed bytes consumed so far, exactly where the format allows (gzip, deflate)."""

    def __init__(self, raw: _Counting) -> None:
        self.raw = raw
        self.inflater: Inflater | None = None
        self.base = 0

    def __call__(self) -> int:
        if self.inflater is not None:
            return self.base + self.inflater.consumed
        return self.raw.count


@contextlib.contextmanager
def metered_tar(stored: IO[bytes]) -> Iterator[tuple[tarfile.TarFile, Callable[[], int]]]:
    """A tar archive read as a stream (any compression), and a function giving the
    compressed bytes consumed so far, for ratio limits measured while reading."""
    raw = _Counting(stored)
    meter = _Meter(raw)
    with tarfile.open(fileobj=_tar_stream(raw, meter), mode="r:") as tar:
        yield tar, meter


def _tar_stream(raw: _Counting, meter: _Meter) -> IO[bytes]:
    """The decompressed tar stream (gzip, bzip2, xz or none, told by the magic bytes)."""
    head = raw.raw.read(6)
    raw.raw.seek(0)
    inner: Any
    if head.startswith(b"\x1f\x8b"):
        meter.inflater = Inflater(cast(IO[bytes], raw), 31)
        inner = io.BufferedReader(meter.inflater)
    elif head.startswith(b"BZh"):
        inner = bz2.BZ2File(raw)
    elif head.startswith(b"\xfd7zXZ\x00"):
        inner = lzma.LZMAFile(cast(IO[bytes], raw))  # noqa: SIM115 - closed with the archive
    else:
        inner = io.BufferedReader(raw)  # tarfile needs whole reads
    return cast(IO[bytes], _HeaderGuard(cast(IO[bytes], _Seekless(inner))))


class _Seekless(io.RawIOBase):
    """A forward-only stream with ``tell`` and forward ``seek`` (by reading), for tarfile."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        target = offset if whence == 0 else self.position + offset
        if whence not in (0, 1) or target < self.position:
            raise OSError("a compressed tar stream is read forwards only")
        while self.position < target:
            skipped = self.inner.read(min(CHUNK, target - self.position))
            if not skipped:
                break
            self.position += len(skipped)
        return self.position

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)


def _zip_opener(
    zipped: zipfile.ZipFile, info: zipfile.ZipInfo, stored: IO[bytes], meter: _Meter
) -> Callable[[], IO[bytes] | None]:
    """Open a zip member: stored and deflated ones through :class:`Inflater` (the exact
    ratio, CRC checked), anything else through :mod:`zipfile`."""

    def open_member() -> IO[bytes] | None:
        meter.base = meter()
        meter.inflater = None
        if info.compress_type != zipfile.ZIP_DEFLATED or info.flag_bits & 0x1:
            return zipped.open(info)  # stored, bzip2, lzma; encrypted is refused there
        stored.seek(info.header_offset)
        header = stored.read(30)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile("bad local file header")
        skip = int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little")
        stored.seek(info.header_offset + 30 + skip)
        meter.inflater = Inflater(stored, -15, info.compress_size)
        return cast(IO[bytes], _CrcChecked(meter.inflater, info.CRC))

    return open_member


class _CrcChecked(io.RawIOBase):
    def __init__(self, inflater: Inflater, crc: int) -> None:
        self.inflater = inflater
        self.crc = crc

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.inflater.readinto(buffer)
        if n == 0 and self.inflater.crc != self.crc:
            raise zipfile.BadZipFile("the member's CRC does not match its data")
        return n


def _zip_kind(info: zipfile.ZipInfo) -> str:
    if not info.filename:
        return "file"  # refused by name: is_dir() fails on an empty name
    if info.is_dir():
        return "dir"
    if (info.external_attr >> 16) & 0o170000 in (0o120000, 0o020000, 0o060000, 0o010000):
        return "other"  # a symbolic link, device or FIFO
    return "file"


def _members(path: Path, raw: _Counting, dest: Path, meter: _Meter) -> Iterator[_Member]:
    """The members of a zip or tar archive, in archive order, each vetted."""
    if path.name.lower().endswith(".zip"):
        with zipfile.ZipFile(io.BufferedReader(raw)) as zipped:
            for info in zipped.infolist():
                yield _Member(
                    info.filename,
                    _zip_kind(info),
                    _zip_opener(zipped, info, raw.raw, meter),
                    compressed=info.compress_size,
                )
        return
    with tarfile.open(fileobj=_tar_stream(raw, meter), mode="r:") as archive:
        for tinfo in archive:
            refused = None
            try:
                tarfile.data_filter(tinfo, str(dest))
            except tarfile.FilterError as exc:
                refused = _FILTER_REASONS.get(type(exc).__name__, "the tar extraction filter")
            kind = "dir" if tinfo.isdir() else "file" if tinfo.isfile() else "other"
            yield _Member(
                tinfo.name,
                kind,
                lambda tinfo=tinfo: archive.extractfile(tinfo),  # type: ignore[misc]
                refused,
            )


_FILTER_REASONS = {
    "AbsolutePathError": "its path leaves the archive's folder",
    "OutsideDestinationError": "its path leaves the archive's folder",
    "SpecialFileError": "it is a link or a special file",
    "AbsoluteLinkError": "it is a link or a special file",
    "LinkOutsideDestinationError": "it is a link or a special file",
}


def _safe_name(name: str) -> PurePosixPath | None:
    pure = PurePosixPath(name.replace("\\", "/"))
    parts = [p for p in pure.parts if p not in (".", "")]
    if pure.is_absolute() or ".." in parts or not parts or "\x00" in name:
        return None
    return PurePosixPath(*parts)


class _WriteFailed(Exception):
    """A member could not be written (a name too long, a file where a folder is needed)."""


class _Budget:
    """The bytes one archive may write: in all, and per member against its ratio."""

    def __init__(self, limits: Limits, meter: _Meter) -> None:
        self.limits = limits
        self.meter = meter
        self.files = 0
        self.written = 0

    def copy(self, source: IO[bytes], target: Path) -> None:
        """Write one member, checking the limits after every chunk; a member cut short
        (a limit, corruption) is not left behind."""
        limits = self.limits
        consumed_before = self.meter()
        written = 0
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            out = target.open("xb")
        except OSError as exc:
            raise _WriteFailed(exc.strerror or type(exc).__name__) from None
        try:
            with out:
                while chunk := source.read(CHUNK):
                    written += len(chunk)
                    self.written += len(chunk)
                    if self.written > limits.max_decompressed_bytes:
                        raise ArchiveLimit(
                            f"the archive expands beyond {limits.max_decompressed_bytes} bytes"
                            "; extraction stopped"
                        )
                    consumed = self.meter()
                    member_in = max(1, consumed - consumed_before)
                    total_in = max(1, consumed)
                    if (written > RATIO_FLOOR and written / member_in > limits.max_ratio) or (
                        self.written > RATIO_FLOOR and self.written / total_in > limits.max_ratio
                    ):
                        raise ArchiveLimit(
                            f"the archive expands more than {limits.max_ratio}:1 "
                            "(a compression bomb?); extraction stopped"
                        )
                    try:
                        out.write(chunk)
                    except OSError as exc:
                        raise _WriteFailed(exc.strerror or type(exc).__name__) from None
        except BaseException:
            target.unlink(missing_ok=True)
            raise


def _free_name(dest: Path, safe: PurePosixPath, taken: set[PurePosixPath]) -> PurePosixPath:
    """Where to write ``safe``: itself, or, when an earlier member already has that name
    (or a file stands where one of its folders must go), ``name (duplicate N).ext``."""
    parts: list[str] = []
    for index, part in enumerate(safe.parts):
        last = index == len(safe.parts) - 1
        candidate, number = part, 2
        while True:
            path = PurePosixPath(*parts, candidate)
            on_disk = dest.joinpath(*path.parts)
            clash = (path in taken or on_disk.exists()) if last else on_disk.is_file()
            if not clash:
                break
            stem, dot, suffix = part.partition(".")
            candidate = f"{stem} (duplicate {number}){dot}{suffix}"
            number += 1
        parts.append(candidate)
    return PurePosixPath(*parts)


def extract_archive(path: Path, dest: Path, limits: Limits) -> tuple[Path, list[SourceIssue]]:
    """Extract ``path`` into ``dest``; return the feed root inside it and any problems."""
    issues: list[SourceIssue] = []
    display = str(path)

    def report(code: str, message: str, member: str | None = None, severity: Any = None) -> None:
        where = Location(f"{display}/{member}" if member is not None else display)
        issues.append(SourceIssue(code, message, where, severity or Severity.ERROR))

    taken: set[PurePosixPath] = set()
    is_zip = path.name.lower().endswith(".zip")
    with path.open("rb") as stored:
        raw = _Counting(stored)
        meter = _Meter(raw)
        budget = _Budget(limits, meter)
        try:
            for member in _members(path, raw, dest, meter):
                safe = _safe_name(member.name)
                if safe is None:
                    why = "its path leaves the archive's folder"
                    report(
                        "unsafe-archive-member", f"archive member not extracted: {why}", member.name
                    )
                    continue
                if member.refused is not None or member.kind == "other":
                    why = member.refused or "it is a link or a special file"
                    report(
                        "unsafe-archive-member", f"archive member not extracted: {why}", member.name
                    )
                    continue
                if member.kind == "dir":
                    continue
                budget.files += 1
                if budget.files > limits.max_files:
                    report("limit-exceeded", f"more than {limits.max_files} files in the archive")
                    break
                name = _free_name(dest, safe, taken)
                if name != safe:
                    report(
                        "duplicate-archive-member",
                        "the archive holds this name more than once (or a file and a folder "
                        f"of this name); this copy was read as '{name}'",
                        member.name,
                    )
                try:
                    opened = member.open()
                    if opened is None:
                        continue
                    with opened:
                        budget.copy(opened, dest.joinpath(*name.parts))
                except ArchiveLimit as exc:
                    report("limit-exceeded", str(exc), member.name)
                    break
                except _WriteFailed as exc:
                    report(
                        "unsafe-archive-member",
                        f"archive member could not be extracted ({exc}); the next was read",
                        member.name,
                    )
                    continue
                except ARCHIVE_ERRORS as exc:
                    if not is_zip:
                        raise  # a tar stream is broken from here on
                    report(
                        "unreadable-input",
                        f"archive member is corrupt ({type(exc).__name__}); the next was read",
                        member.name,
                    )
                    continue
                taken.add(name)
        except ArchiveLimit as exc:
            report("limit-exceeded", str(exc))
        except ARCHIVE_ERRORS as exc:
            report(
                "unreadable-input",
                f"the archive is corrupt or truncated ({type(exc).__name__}); "
                "members after this point were not read",
            )
    entries = [p for p in dest.iterdir() if not p.name.startswith(".")]
    root = entries[0] if len(entries) == 1 and entries[0].is_dir() else dest
    return root, issues


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)

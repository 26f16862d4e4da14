"""Open inputs: files, gzip, stdin; guard decompression against bombs."""

from __future__ import annotations

import gzip
import io
import sys
import zlib
from pathlib import Path
from typing import IO, Any

from conformance.limits import Limits
from conformance.readers.base import Source

HEAD_BYTES = 8192
GZIP_MAGIC = b"\x1f\x8b"
HEAD_ERRORS = (OSError, EOFError, zlib.error)
"""What peeking at the head of a corrupt or truncated input can raise (reported when read)."""


class LimitExceeded(Exception):
    """A limit was hit while reading; the message says which and where."""


class _Counting(io.RawIOBase):
    """Counts the compressed bytes consumed, for the ratio limit."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


class _GuardedStream(io.RawIOBase):
    """Counts decompressed bytes and stops at the size and ratio limits."""

    def __init__(self, inner: IO[bytes], raw: _Counting, name: str, limits: Limits) -> None:
        self._inner = inner
        self._raw = raw
        self._name = name
        self._limits = limits
        self._out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        # read1: one decompression step at a time, so that the data before a truncation
        # or corruption is delivered before the error (read() would drop it).
        data = self._inner.read1(len(buffer))  # type: ignore[attr-defined]
        n = len(data)
        buffer[:n] = data
        self._out += n
        limits = self._limits
        if self._out > limits.max_decompressed_bytes:
            raise LimitExceeded(
                f"{self._name}: decompressed size exceeds the limit of "
                f"{limits.max_decompressed_bytes} bytes"
            )
        if self._out > 16 * 1024 * 1024:
            consumed = max(1, self._raw.count)
            if self._out / consumed > limits.max_ratio:
                raise LimitExceeded(
                    f"{self._name}: decompression ratio exceeds {limits.max_ratio}:1 "
                    "(a compression bomb?)"
                )
        return n

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._raw.close()
            super().close()


class _HeadThenRest(io.RawIOBase):
    """Serves bytes already peeked from a non-seekable stream, then the rest of it."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._pos = 0
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._pos < len(self._head):
            chunk = self._head[self._pos : self._pos + len(buffer)]
            self._pos += len(chunk)
            buffer[: len(chunk)] = chunk
            return len(chunk)
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def open_gzip(raw: IO[bytes], name: str, limits: Limits) -> IO[bytes]:
    """Decompress ``raw`` lazily, within the size and ratio limits."""
    counting = _Counting(raw)
    inner: IO[bytes] = gzip.GzipFile(fileobj=counting, mode="rb")  # type: ignore[assignment]
    return io.BufferedReader(_GuardedStream(inner, counting, name, limits), 1 << 16)


class _Hashing(io.RawIOBase):
    """Feeds every byte read from a file to a digest (the input's sha256 in the scorecard)."""

    def __init__(self, raw: IO[bytes], digest: Any) -> None:
        self.raw = raw
        self.digest = digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.digest.update(data)
        return n

    def close(self) -> None:
        # Hash what the reader left unread (it stopped early on a broken file), so the
        # digest always covers the whole file.
        if not self.closed:
            try:
                while chunk := self.raw.read(1 << 20):
                    self.digest.update(chunk)
            except OSError:
                pass
            self.raw.close()
        super().close()


def _open_file(path: Path, name: str, limits: Limits, source: Source | None = None) -> IO[bytes]:
    raw: IO[bytes] = path.open("rb")
    magic = raw.read(2)
    raw.seek(0)
    if source is not None:
        hashing = _Hashing(raw, source.digest)
        raw = io.BufferedReader(hashing, 1 << 16)
    if magic == GZIP_MAGIC:
        return open_gzip(raw, name, limits)
    return raw


def source_for_file(path: Path, name: str, limits: Limits) -> Source:
    """A :class:`Source` for a file, with its head read (decompressed) for sniffing."""
    with path.open("rb") as raw:
        magic = raw.read(2)
    compression = "gzip" if magic == GZIP_MAGIC else None
    head = b""
    try:
        with _open_file(path, name, limits) as stream:
            head = stream.read(HEAD_BYTES)
    except (*HEAD_ERRORS, LimitExceeded):
        head = b""  # the reader reports the corruption when it reads the file
    source = Source(name=name, path=path, opener=lambda: raw_stream(), head=head)
    source.compression = compression

    def raw_stream() -> IO[bytes]:
        return _open_file(path, name, limits, source)

    return source


def source_for_stdin(limits: Limits, stream: IO[bytes] | None = None) -> Source:
    """A :class:`Source` for standard input (readable once; gzip detected)."""
    raw = stream if stream is not None else sys.stdin.buffer
    first = raw.read(HEAD_BYTES)
    whole: IO[bytes] = io.BufferedReader(_HeadThenRest(first, raw))
    compression = None
    if first[:2] == GZIP_MAGIC:
        compression = "gzip"
        whole = open_gzip(whole, "<stdin>", limits)
        try:
            head = whole.peek(HEAD_BYTES)[:HEAD_BYTES]  # type: ignore[attr-defined]
        except (*HEAD_ERRORS, LimitExceeded):
            head = b""
    else:
        head = first
    used = False

    def opener() -> IO[bytes]:
        nonlocal used
        if used:
            raise OSError("standard input can be read only once")
        used = True
        return whole

    return Source(name="<stdin>", path=None, opener=opener, head=head, compression=compression)

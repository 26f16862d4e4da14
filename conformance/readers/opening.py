"""Open inputs: files, gzip, stdin; guard decompression against bombs."""

from __future__ import annotations

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


class Inflater(io.RawIOBase):
    """Inflate a gzip (``wbits=31``, members in sequence) or raw deflate (``wbits=-15``)
    stream, counting *exactly* the compressed bytes consumed (:attr:`consumed`).

    Python's GzipFile and ZipFile read ahead (up to 128 KiB) and keep the surplus to
    themselves, so a ratio measured against what they read is too low by that much: at
    a 1000:1 limit a bomb could write gigabytes before it shows. Here the decompressor's
    unconsumed input is subtracted, so the ratio is the true one from the first chunk.
    """

    def __init__(
        self, raw: IO[bytes], wbits: int, compressed_size: int | None = None, owns: bool = False
    ) -> None:
        self.raw = raw
        self.owns = owns
        """Close ``raw`` on close (not for a member read from a shared archive file)."""
        self.wbits = wbits
        self.left = compressed_size
        self.decompressor = zlib.decompressobj(wbits)
        self.fed = 0
        self.pending = b""
        self.crc = 0
        self.done = False

    def readable(self) -> bool:
        return True

    @property
    def consumed(self) -> int:
        d = self.decompressor
        return self.fed - len(d.unconsumed_tail) - len(d.unused_data) - len(self.pending)

    def _more(self) -> bytes:
        if self.pending:
            data, self.pending = self.pending, b""
            return data
        size = 16 * 1024 if self.left is None else min(16 * 1024, self.left)
        data = self.raw.read(size) if size else b""
        self.fed += len(data)
        if self.left is not None:
            self.left -= len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        want = len(buffer)
        while not self.done:
            d = self.decompressor
            if d.eof:
                rest = d.unused_data
                if self.wbits != 31:
                    self.done = True
                    break
                self.pending = rest.lstrip(b"\0") if rest else b""
                more = self.pending or self._more().lstrip(b"\0")
                if not more:
                    self.done = True
                    break
                self.pending = more
                self.decompressor = zlib.decompressobj(self.wbits)  # the next gzip member
                continue
            data = d.unconsumed_tail or self._more()
            if not data:
                raise EOFError("the compressed data ends before its end marker")
            out = d.decompress(data, want)
            if out:
                buffer[: len(out)] = out
                self.crc = zlib.crc32(out, self.crc)
                return len(out)
        return 0

    def close(self) -> None:
        if not self.closed and self.owns:
            self.raw.close()
        super().close()


class _GuardedStream(io.RawIOBase):
    """Counts decompressed bytes and stops at the size and ratio limits."""

    def __init__(self, inner: IO[bytes], raw: Any, name: str, limits: Limits) -> None:
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
            consumed = max(1, self._raw.consumed)
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
    """Decompress ``raw`` lazily, within the size and ratio limits (the true ratio)."""
    inflater = Inflater(raw, 31, owns=True)
    inner: IO[bytes] = io.BufferedReader(inflater, 1 << 16)
    return io.BufferedReader(_GuardedStream(inner, inflater, name, limits), 1 << 16)


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

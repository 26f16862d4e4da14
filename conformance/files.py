"""Files the command line reads whole or writes: never block, never leave half a file.

- :func:`read_regular` reads a file given by the user (a scorecard, a baseline, a
  standard.yaml) only if it is a regular file: a FIFO, a device or a socket is refused
  with a clean error instead of blocking forever (it is opened non-blocking and checked
  with ``fstat`` on the open descriptor, so nothing can swap it in between). Its size is
  bounded too.
- :func:`write_atomic` writes an output to a temporary file beside the target and renames
  it into place, so an interrupted or failed write never leaves a truncated report. An
  output that is not a regular file (``/dev/stdout``, a pipe) is written directly.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from conformance.errors import InputError, UsageError

MAX_READ = 1024 * 1024 * 1024
"""Largest file read whole (scorecards, baselines, standards): 1 GiB."""


def read_regular(path: Path | str, *, limit: int = MAX_READ, what: str = "file") -> bytes:
    """The bytes of a regular file; :class:`InputError` for anything else (exit 2)."""
    name = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{name}: cannot read: {what} not found") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(f"{name}: cannot read: {reason}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{name}: is a folder, not a {what}")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{name}: not a regular file (a pipe or device?); refused")
        if info.st_size > limit:
            raise InputError(f"{name}: larger than {limit} bytes; refused")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=True) as stream:
            fd = -1
            data = stream.read(limit + 1)
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > limit:
        raise InputError(f"{name}: larger than {limit} bytes; refused")
    return data


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def write_atomic(path: Path | str, data: bytes | str) -> None:
    """Write ``data`` to ``path`` all at once or not at all (temporary file + rename)."""
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        special = target.exists() and not target.is_file()
    except OSError:
        special = False
    try:
        if special:  # /dev/stdout, a pipe: there is nothing to replace
            with target.open("wb") as out:
                out.write(payload)
            return
        fd, temp = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name[:40]}.", suffix=".tmp"
        )
        try:
            with os.fdopen(fd, "wb") as out:
                os.fchmod(out.fileno(), 0o666 & ~_umask())
                out.write(payload)
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
    except OSError as exc:
        raise UsageError(f"{target}: cannot write: {exc.strerror or exc}") from None

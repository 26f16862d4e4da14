"""Parallel validation on one machine: inputs split across worker processes.

Whole files are tasks; a plain NDJSON file larger than its fair part of the work is also
cut into byte ranges on line boundaries, each range a task that knows the line number it
starts at. Workers are forked from the process that opened (and warmed) the run's
:class:`~conformance.engine.session.Session`, so they start with the compiled standard
and never compile it again; where processes cannot be forked, each worker opens the
session from its pinned spec. Workers run the record-level checks over their tasks and
send back their :class:`~conformance.engine.accumulate.Share`; the parent merges the
shares in input order and finishes once, so the scorecard is identical to a serial run's.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mypy_extensions import mypyc_attr

from conformance.engine.accumulate import Share
from conformance.engine.session import Session
from conformance.engine.spec import RunSpec
from conformance.errors import ConformanceError
from conformance.readers.base import Source
from conformance.readers.discovery import InputItem
from conformance.readers.opening import GZIP_MAGIC, HEAD_BYTES

SPLIT_SUFFIXES = (".ndjson", ".jsonl")
AUTO_PARALLEL_BYTES = 32 * 1024 * 1024
"""Below this much input a single process is faster than starting workers."""
TASKS_PER_JOB = 4
"""About how many tasks each worker gets, so that work evens out between workers."""
MIN_CHUNK_BYTES = 1024 * 1024
"""Files are not cut into ranges smaller than this (each task has a fixed cost)."""


@mypyc_attr(native_class=False)  # pickled to and from workers: see hatch_build.py
@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int
    first_line: int


@mypyc_attr(native_class=False)  # pickled to and from workers: see hatch_build.py
@dataclass(frozen=True, slots=True)
class Task:
    item: InputItem
    range: ByteRange | None = None


def _is_plain(path: Path) -> bool:
    with path.open("rb") as stream:
        return stream.read(2) != GZIP_MAGIC


def cut_points(path: Path, parts: int) -> tuple[list[ByteRange], str]:
    """Cut ``path`` into about ``parts`` ranges on line boundaries; also hash it.

    Cuts are found by seeking to equal fractions and skipping to the next line; then one
    sequential pass hashes the file and counts newlines to give each range its first line
    number, so the parent reads the file once.
    """
    size = path.stat().st_size
    cuts: list[int] = [0]
    with path.open("rb") as stream:
        for k in range(1, parts):
            target = max(size * k // parts, cuts[-1])
            stream.seek(target)
            if target > 0:
                stream.seek(target - 1)
                stream.readline()  # to the start of the next line
            cut = stream.tell()
            if cuts[-1] < cut < size:
                cuts.append(cut)
    digest = hashlib.sha256()
    first_lines: list[int] = []
    lines = 0
    offset = 0
    pending = list(cuts)
    with path.open("rb") as stream:
        while True:
            chunk = stream.read(1 << 22)
            while pending and pending[0] <= offset + len(chunk):
                first_lines.append(lines + chunk.count(b"\n", 0, pending[0] - offset) + 1)
                pending.pop(0)
            if not chunk:
                break
            digest.update(chunk)
            lines += chunk.count(b"\n")
            offset += len(chunk)
    ends = [*cuts[1:], size]
    ranges = [ByteRange(s, e, n) for s, e, n in zip(cuts, ends, first_lines, strict=True)]
    return ranges, digest.hexdigest()


def plan(
    items: Sequence[InputItem], jobs: int, chunk_bytes: int
) -> tuple[list[Task], dict[str, str]]:
    """Tasks in input order, and the digests of the files that were split.

    A plain NDJSON file is cut into ranges when it is larger than ``chunk_bytes`` or than
    its fair part of the work (a ``TASKS_PER_JOB``-th of each worker's share of all the
    input, but at least ``MIN_CHUNK_BYTES``), so that one big file does not keep one
    worker busy while the others wait.
    """
    sizes = [_size(item) for item in items]
    fair = max(MIN_CHUNK_BYTES, sum(sizes) // (jobs * TASKS_PER_JOB))
    chunk = max(1, min(chunk_bytes, fair))
    tasks: list[Task] = []
    digests: dict[str, str] = {}
    for item, size in zip(items, sizes, strict=True):
        path = item.path
        if (
            path is not None
            and path.name.lower().endswith(SPLIT_SUFFIXES)
            and size > chunk
            and _is_plain(path)
        ):
            parts = max(2, min(jobs * TASKS_PER_JOB, size // chunk + 1))
            ranges, sha = cut_points(path, parts)
            digests[item.name] = sha
            tasks.extend(Task(item, r) for r in ranges)
        else:
            tasks.append(Task(item))
    return tasks, digests


def _size(item: InputItem) -> int:
    try:
        return item.path.stat().st_size if item.path is not None else 0
    except OSError:
        return 0  # reported when the worker opens it


class _RangeRaw(io.RawIOBase):
    def __init__(self, path: Path, start: int, end: int) -> None:
        self._file = path.open("rb")
        self._file.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        data = self._file.read(min(len(buffer), self._left))
        n = len(data)
        buffer[:n] = data
        self._left -= n
        return n

    def close(self) -> None:
        self._file.close()
        super().close()


def range_source(item: InputItem, byte_range: ByteRange) -> Source:
    assert item.path is not None
    path = item.path

    def opener() -> IO[bytes]:
        return io.BufferedReader(_RangeRaw(path, byte_range.start, byte_range.end), 1 << 16)

    with opener() as stream:
        head = stream.read(HEAD_BYTES)
    return Source(
        name=item.name,
        path=path,
        opener=opener,
        head=head,
        hints={"range": True, "first_line": byte_range.first_line},
    )


# --------------------------------------------------------------------------- workers

_SESSIONS: dict[str, Session] = {}
"""Sessions of the parallel runs in progress, by token: forked workers inherit them."""
_SESSION: list[Session] = []
"""This worker's session (set by :func:`_start_worker`)."""


def fork_available() -> bool:
    """Whether workers can be forked (and so inherit the parent's session)."""
    return "fork" in multiprocessing.get_all_start_methods()


def _start_worker(token: str, spec: RunSpec | None) -> None:
    """A worker's set-up: the inherited session when forked, else one opened from ``spec``."""
    session = _SESSIONS[token] if spec is None else Session.open(spec)
    _SESSION[:] = [session]


def _work(task: Task) -> Share:
    session = _SESSION[0]
    acc = session.accumulator()
    source = range_source(task.item, task.range) if task.range is not None else None
    session.read(task.item, acc, source=source)
    acc.share.plugin_failures = session.new_failures()
    return acc.share


def _warm_items(tasks: Sequence[Task]) -> list[InputItem]:
    """The inputs whose first records are cheap to read: streamed line by line (NDJSON,
    maybe compressed), or small (a JSON or XML document is parsed whole)."""
    items: dict[str, InputItem] = {}
    for task in tasks:
        item = task.item
        name = item.name.lower().removesuffix(".gz")
        if name.endswith(SPLIT_SUFFIXES) or _size(item) <= MIN_CHUNK_BYTES:
            items.setdefault(item.name, item)
    return list(items.values())


class WorkerDied(ConformanceError):
    """A worker process ended without a result (killed, out of memory, crashed)."""


def run_parallel(session: Session, tasks: Sequence[Task], jobs: int) -> Iterator[Share]:
    """Yield each task's share, in task order.

    Where processes can be forked, the session is warmed first (see :meth:`Session.warm`)
    and the workers inherit it; elsewhere each worker opens its own from the session's
    pinned spec (and warms as it reads). A worker that dies is an error naming the input it
    was reading, never a hang: the executor notices a vanished process (a plain
    ``multiprocessing.Pool`` would wait for it forever). At most ``2 * jobs`` tasks are in
    flight, so finished shares never pile up in the parent faster than it merges them.
    """
    token = session.spec.token
    forked = fork_available()
    if forked:
        session.warm(_warm_items(tasks))
        _SESSIONS[token] = session
    executor = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context("fork" if forked else "spawn"),
        initializer=_start_worker,
        initargs=(token, None if forked else session.spec),
    )
    window: deque[tuple[Task, Future[Share]]] = deque()
    pending = iter(tasks)
    try:
        for task in itertools.islice(pending, 2 * jobs):
            window.append((task, executor.submit(_work, task)))
        while window:
            task, future = window.popleft()
            try:
                share = future.result()
            except BrokenProcessPool:
                raise WorkerDied(
                    f"a worker process ended unexpectedly while reading {task.item.name}; "
                    "rerun with --jobs 1 to validate in one process"
                ) from None
            for nxt in itertools.islice(pending, 1):
                try:
                    window.append((nxt, executor.submit(_work, nxt)))
                except BrokenProcessPool:
                    # A worker died meanwhile: the tasks still in the window fail with the
                    # name of the input being read; with none left, say so here (the task
                    # is never dropped silently: the run ends with this error either way).
                    if window:
                        break
                    raise WorkerDied(
                        f"a worker process ended unexpectedly before reading {nxt.item.name}; "
                        "rerun with --jobs 1 to validate in one process"
                    ) from None
            yield share
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        _SESSIONS.pop(token, None)


def default_jobs(items: Sequence[InputItem]) -> int:
    """All cores when the input is large enough to repay starting workers, else 1."""
    if any(item.path is None for item in items):
        return 1  # standard input streams through one process
    total = sum(_size(item) for item in items)
    cores = os.cpu_count() or 1
    return cores if total >= AUTO_PARALLEL_BYTES else 1

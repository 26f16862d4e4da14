"""Parallel validation on one machine: inputs split across worker processes.

Whole files are tasks; a large plain NDJSON file is also cut into byte ranges on line
boundaries, each range a task that knows the line number it starts at. Workers compile
the standard once, run the record-level checks over their tasks and send back their
*share* (finding counts and examples, the checks' mergeable states, record counts). The
parent merges the shares in input order, then runs the feed-level ``finish`` once, so the
scorecard is identical to a serial run's.
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

from conformance.checks.base import RunContext
from conformance.errors import ConformanceError
from conformance.feed import FeedInfo
from conformance.limits import Limits
from conformance.readers.base import Source
from conformance.readers.discovery import InputItem
from conformance.readers.opening import GZIP_MAGIC, HEAD_BYTES

SPLIT_SUFFIXES = (".ndjson", ".jsonl")
AUTO_PARALLEL_BYTES = 32 * 1024 * 1024
"""Below this much input a single process is faster than starting workers."""


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


@mypyc_attr(native_class=False)  # pickled to and from workers: see hatch_build.py
@dataclass(frozen=True, slots=True)
class SplitFile:
    """A file cut into ranges, with the digest the parent computed while cutting it."""

    name: str
    sha256: str


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
    """Tasks in input order, and the digests of the files that were split."""
    tasks: list[Task] = []
    digests: dict[str, str] = {}
    for item in items:
        path = item.path
        if (
            path is not None
            and path.name.lower().endswith(SPLIT_SUFFIXES)
            and path.stat().st_size > chunk_bytes
            and _is_plain(path)
        ):
            parts = max(2, min(jobs * 4, path.stat().st_size // chunk_bytes + 1))
            ranges, sha = cut_points(path, parts)
            digests[item.name] = sha
            tasks.extend(Task(item, r) for r in ranges)
        else:
            tasks.append(Task(item))
    return tasks, digests


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

_WORKER: dict[str, Any] = {}


def _init_worker(options: Any, standard_folder: Path, feed: FeedInfo) -> None:
    from conformance.engine.accumulate import CompiledStandard
    from conformance.engine.run import Engine, compile_standard

    engine = Engine(options)
    standard = engine.registry.load_folder(standard_folder)
    compiled: CompiledStandard = compile_standard(standard, engine.plugins)
    _WORKER.update(
        engine=engine,
        compiled=compiled,
        feed=feed,
        context=RunContext(feed, standard, extras=dict(options.context_extras)),
    )


def _work(task: Task) -> dict[str, Any]:
    from conformance.engine.accumulate import Accumulator

    engine = _WORKER["engine"]
    limits: Limits = engine.options.limits
    acc = Accumulator(_WORKER["compiled"], _WORKER["context"], limits)
    source = range_source(task.item, task.range) if task.range is not None else None
    acc.read_item(task.item, _WORKER["feed"], engine.readers, limits, source=source)
    share = acc.share()
    share["plugin_failures"] = list(engine.plugins.failures)
    engine.plugins.failures.clear()
    return share


class WorkerDied(ConformanceError):
    """A worker process ended without a result (killed, out of memory, crashed)."""


def run_parallel(
    tasks: Sequence[Task], jobs: int, options: Any, standard_folder: Path, feed: FeedInfo
) -> Iterator[dict[str, Any]]:
    """Yield each task's share, in task order.

    A worker that dies is an error naming the input it was reading, never a hang: the
    executor notices a vanished process (a plain ``multiprocessing.Pool`` would wait for
    it forever). At most ``2 * jobs`` tasks are in flight, so finished shares never pile up
    in the parent faster than it merges them.
    """
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    # Workers need picklable options: no progress callback, no live plugin manager.
    from dataclasses import replace

    worker_options = replace(options, progress=None, plugins=None, history=None)
    executor = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=context,
        initializer=_init_worker,
        initargs=(worker_options, standard_folder, feed),
    )
    window: deque[tuple[Task, Future[dict[str, Any]]]] = deque()
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
                window.append((nxt, executor.submit(_work, nxt)))
            yield share
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def default_jobs(items: Sequence[InputItem]) -> int:
    total = 0
    for item in items:
        if item.path is not None:
            try:
                total += item.path.stat().st_size
            except OSError:
                continue
        else:
            return 1  # standard input streams through one process
    cores = os.cpu_count() or 1
    return cores if total >= AUTO_PARALLEL_BYTES else 1

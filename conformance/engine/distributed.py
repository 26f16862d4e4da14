"""The engine API for distributed runs (Spark today; Dask, Ray or a batch scheduler alike).

A distributed run has three steps, the same as a local parallel run:

1. On the driver, :func:`make_spec` pins the run: the standard (resolved once, so every
   worker uses the same version), the feed's manifest information, the limits. The
   :class:`RunSpec` is small and picklable; ship it to the workers.
2. Each worker turns its part of the input into a *share* with :func:`validate_file`
   (a whole file in any format the readers know) or :func:`validate_records` (NDJSON
   lines with their line numbers, e.g. rows of a table). A worker compiles the standard
   once per process and run, from the spec, and reuses it for every task.
3. The driver passes all shares, **in input order**, to :func:`finish`, which merges them
   exactly as a local parallel run does and runs the feed-level checks once. Given the
   same inputs in the same order, the scorecard equals a local run's (but for ``run``).

Shares are plain picklable dictionaries (see :meth:`Accumulator.share`).
"""

from __future__ import annotations

import io
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeAlias

from mypy_extensions import mypyc_attr

from conformance.__about__ import __version__
from conformance.checks.base import RunContext
from conformance.compiled import build_kind
from conformance.engine.accumulate import Accumulator, CompiledStandard
from conformance.engine.run import Engine, RunOptions, compile_standard
from conformance.feed import FeedInfo
from conformance.limits import Limits
from conformance.readers.base import Source, SourceIssue
from conformance.readers.discovery import InputItem, Inputs
from conformance.readers.fhir_json import NdjsonReader
from conformance.scorecard.model import Scorecard

__all__ = [
    "RunSpec",
    "Share",
    "finish",
    "make_spec",
    "validate_file",
    "validate_records",
]

Share: TypeAlias = dict[str, Any]
"""One task's result: finding counts and examples, check states, record counts."""


@mypyc_attr(native_class=False)  # pickled to and from workers: see hatch_build.py
@dataclass(frozen=True, slots=True)
class RunSpec:
    """Everything a worker needs to validate its part of one run (picklable)."""

    standard_ref: str
    """The resolved standard, e.g. ``mdss@1.0.0``: workers load it from their registry."""
    standard_folder: str
    """The standard's folder on the driver; workers use it when they can see it (it then
    wins over ``standard_ref``, so a standard given as a folder works on one machine or a
    shared file system)."""
    feed: FeedInfo = field(default_factory=FeedInfo)
    limits: Limits = field(default_factory=Limits)
    environment: str | None = None
    context_extras: Mapping[str, Any] = field(default_factory=dict)
    source_issues: tuple[SourceIssue, ...] = ()
    """Problems the driver found while listing the inputs (reported before any share's)."""
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    """Identifies the run, so a worker process serving several runs keeps them apart."""
    version: str = __version__
    """The driver's conformance version: workers refuse to run a different one."""
    build: str = field(default_factory=build_kind)
    """The driver's build (compiled or pure Python): shares of one build do not unpickle
    in the other, so workers refuse to run a different one."""


def make_spec(
    feed: FeedInfo | None = None,
    standard: str | Path | None = None,
    *,
    limits: Limits | None = None,
    environment: str | None = None,
    context_extras: Mapping[str, Any] | None = None,
    source_issues: Sequence[SourceIssue] = (),
) -> RunSpec:
    """Resolve the standard (as a local run would) and pin the run's settings."""
    feed = feed if feed is not None else FeedInfo()
    if environment is not None:
        feed.environment = environment
    wanted = str(standard) if isinstance(standard, Path) else standard
    engine = Engine(RunOptions(standard=wanted, limits=limits or Limits(), jobs=1))
    resolved = engine.resolve_standard(feed)
    return RunSpec(
        standard_ref=resolved.ref,
        standard_folder=str(resolved.path),
        feed=feed,
        limits=limits or Limits(),
        environment=environment,
        context_extras=dict(context_extras or {}),
        source_issues=tuple(source_issues),
    )


# --------------------------------------------------------------------------- workers


@dataclass(slots=True)
class _Worker:
    engine: Engine
    compiled: CompiledStandard
    context: RunContext


_WORKERS: OrderedDict[str, _Worker] = OrderedDict()
_KEEP_WORKERS = 2


def _options(spec: RunSpec) -> RunOptions:
    return RunOptions(
        standard=spec.standard_folder,
        limits=spec.limits,
        environment=spec.environment,
        context_extras=dict(spec.context_extras),
        jobs=1,
    )


def _worker(spec: RunSpec) -> _Worker:
    """This process's compiled standard for the run (compiled on first use, then cached)."""
    worker = _WORKERS.get(spec.token)
    if worker is not None:
        _WORKERS.move_to_end(spec.token)
        return worker
    if spec.version != __version__:
        raise RuntimeError(
            f"this worker runs conformance {__version__} but the driver runs {spec.version}: "
            "install the same version on every node"
        )
    if spec.build != build_kind():
        raise RuntimeError(
            f"this worker runs the {build_kind()} build of conformance but the driver runs "
            f"the {spec.build} one: install the same wheel on every node"
        )
    engine = Engine(_options(spec))
    folder = Path(spec.standard_folder)
    if (folder / "standard.yaml").is_file():
        standard = engine.registry.load_folder(folder)
    else:
        standard = engine.registry.resolve(spec.standard_ref)
    compiled = compile_standard(standard, engine.plugins)
    context = RunContext(spec.feed, standard, extras=dict(spec.context_extras))
    worker = _Worker(engine, compiled, context)
    _WORKERS[spec.token] = worker
    while len(_WORKERS) > _KEEP_WORKERS:
        _WORKERS.popitem(last=False)
    return worker


def _share(worker: _Worker, acc: Accumulator) -> Share:
    share = acc.share()
    failures = worker.engine.plugins.failures
    share["plugin_failures"] = list(failures)
    failures.clear()
    return share


def validate_file(spec: RunSpec, path: Path, name: str, relative: str | None = None) -> Share:
    """Validate one whole local file (NDJSON, JSON or Bundle, CSV, gzip...) as ``name``.

    ``path`` is where the bytes are on this worker (e.g. a temporary copy); ``name`` is
    what findings call it, and ``relative`` its path under the feed root (to match the
    manifest's entries). The share records the file's sha256, as a local run does.
    """
    worker = _worker(spec)
    acc = Accumulator(worker.compiled, worker.context, spec.limits)
    acc.read_item(InputItem(path, name, relative), spec.feed, worker.engine.readers, spec.limits)
    return _share(worker, acc)


class _AnyLinesReader(NdjsonReader):
    """The NDJSON reader, whatever the source's name or first bytes look like."""

    name: ClassVar[str] = "ndjson"

    def claims(self, source: Source) -> int:
        return 100


class _LineStream(io.RawIOBase):
    """Numbered lines as one NDJSON byte stream, read lazily.

    Skipped line numbers become blank lines (which the reader passes over), so every
    record keeps its own number. A newline inside a value becomes a tab: both are JSON
    whitespace outside strings and both are invalid inside them, so validity is kept.
    """

    def __init__(self, first: tuple[int, bytes], rest: Iterator[tuple[int, bytes]]) -> None:
        self._rest = rest
        self._next_line = first[0]
        self._pending = memoryview(self._encode(first))

    def _encode(self, item: tuple[int, bytes]) -> bytes:
        number, data = item
        gap = number - self._next_line
        if gap < 0:
            raise ValueError(f"line numbers must increase (line {number} after a later one)")
        self._next_line = number + 1
        if data.endswith(b"\n"):
            data = data[:-1]
        if b"\n" in data:
            data = data.replace(b"\n", b"\t")
        return b"\n" * gap + data + b"\n"

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            item = next(self._rest, None)
            if item is None:
                return 0
            self._pending = memoryview(self._encode(item))
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def validate_records(
    spec: RunSpec,
    file_name: str,
    lines: Iterable[tuple[int, bytes]],
    *,
    relative: str | None = None,
) -> Share:
    """Validate numbered NDJSON lines (1-based, increasing) that belong to ``file_name``.

    Each value is one FHIR resource as JSON (UTF-8 bytes); findings carry ``file_name``
    and the line number given. The lines may be a part of a file: shares of the parts,
    finished in order, count the file once. Consumed lazily, so a partition of any size
    streams through in constant memory.
    """
    worker = _worker(spec)
    acc = Accumulator(worker.compiled, worker.context, spec.limits)
    iterator = iter(lines)
    first = next(iterator, None)
    item = InputItem(None, file_name, relative)
    if first is None:
        return _share(worker, acc)
    stream = _LineStream(first, iterator)
    source = Source(
        name=file_name,
        path=None,
        opener=lambda: io.BufferedReader(stream, 1 << 16),
        hints={"range": True, "first_line": first[0]},
    )
    acc.read_item(item, spec.feed, [_AnyLinesReader(spec.limits)], spec.limits, source=source)
    return _share(worker, acc)


# --------------------------------------------------------------------------- driver


class _MergingEngine(Engine):
    """The local engine, fed with shares instead of reading inputs itself.

    It runs the engine's own merge-and-finish path (the one parallel runs take), so a
    distributed scorecard is built by exactly the same code as a local one.
    """

    def __init__(
        self, options: RunOptions, shares: Iterable[Share], digests: Mapping[str, str]
    ) -> None:
        super().__init__(options)
        self._shares = shares
        self._digests = digests

    def _jobs(self, found: Inputs) -> int:
        return 2  # take the merging path

    def _read_parallel(self, acc: Accumulator, found: Inputs, standard: Any, jobs: int) -> None:
        failures = self.plugins.failures
        for share in self._shares:
            share = dict(share)
            failures.extend(f for f in share.pop("plugin_failures", []) if f not in failures)
            acc.merge(share)
        for summary in acc.summaries:
            if summary.file in self._digests:
                summary.sha256 = self._digests[summary.file]


def finish(
    spec: RunSpec,
    shares_in_order: Iterable[Share],
    *,
    digests: Mapping[str, str] | None = None,
    elapsed: float = 0.0,
    started_at: datetime | None = None,
) -> Scorecard:
    """Merge the shares (in input order) and build the scorecard.

    ``digests`` gives the sha256 of files whose records came in parts through
    :func:`validate_records` (by file name), for the provenance checks. ``elapsed`` is
    the time already spent (seconds) before this call and ``started_at`` when the run
    began; both only go into the scorecard's ``run`` section.
    """
    engine = _MergingEngine(_options(spec), shares_in_order, digests or {})
    found = Inputs(feed=spec.feed, issues=list(spec.source_issues))
    started = time.perf_counter() - elapsed
    when = (started_at or datetime.now(UTC)).replace(microsecond=0)
    return engine._run(found, started, when)

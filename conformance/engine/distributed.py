"""The engine API for distributed runs (Spark today; Dask, Ray or a batch scheduler alike).

A distributed run has three steps, the same as a local parallel run:

1. On the driver, :func:`make_spec` pins the run: the standard (resolved once, so every
   worker uses the same version), the feed's manifest information, the limits. The
   :class:`RunSpec` is small and picklable; ship it to the workers.
2. Each worker turns its part of the input into a :class:`Share` with
   :func:`validate_file` (a whole file in any format the readers know) or
   :func:`validate_records` (NDJSON lines with their line numbers, e.g. rows of a table).
   A worker opens the run's :class:`Session` once per process, from the spec, and reuses
   it for every task.
3. The driver passes all shares, **in input order**, to :func:`finish`, which merges them
   exactly as a local run does and runs the feed-level checks once. Given the same inputs
   in the same order, the scorecard equals a local run's (but for ``run``).

Shares are plain picklable data (see :class:`Share`).
"""

from __future__ import annotations

import io
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from conformance.__about__ import __version__
from conformance.compiled import build_kind
from conformance.engine.accumulate import Share
from conformance.engine.finish import finish as finish_session
from conformance.engine.session import Session
from conformance.engine.spec import RunSpec
from conformance.feed import FeedInfo
from conformance.limits import Limits
from conformance.readers.base import Source, SourceIssue
from conformance.readers.discovery import InputItem
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


def make_spec(
    feed: FeedInfo | None = None,
    standard: str | Path | None = None,
    *,
    limits: Limits | None = None,
    environment: str | None = None,
) -> RunSpec:
    """Resolve the standard (as a local run would) and pin the run's settings."""
    spec = RunSpec(
        standard=None if standard is None else str(standard),
        feed=feed,
        limits=limits or Limits(),
        environment=environment,
        jobs=1,
    )
    session = Session.open(spec)
    _remember(session)  # the driver finishes with it
    return session.spec


# --------------------------------------------------------------------------- workers

_SESSIONS: OrderedDict[str, Session] = OrderedDict()
_KEEP_SESSIONS = 2


def _session(spec: RunSpec) -> Session:
    """This process's session for the run (opened on first use, then cached)."""
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
    session = _SESSIONS.get(spec.token)
    if session is not None:
        _SESSIONS.move_to_end(spec.token)
        return session
    session = Session.open(spec)
    _remember(session)
    return session


def _remember(session: Session) -> None:
    _SESSIONS[session.spec.token] = session
    while len(_SESSIONS) > _KEEP_SESSIONS:
        _SESSIONS.popitem(last=False)


def _share(session: Session, share: Share) -> Share:
    share.plugin_failures = session.new_failures()
    return share


def validate_file(spec: RunSpec, path: Path, name: str, relative: str | None = None) -> Share:
    """Validate one whole local file (NDJSON, JSON or Bundle, CSV, gzip...) as ``name``.

    ``path`` is where the bytes are on this worker (e.g. a temporary copy); ``name`` is
    what findings call it, and ``relative`` its path under the feed root (to match the
    manifest's entries). The share records the file's sha256, as a local run does.
    """
    session = _session(spec)
    acc = session.accumulator()
    session.read(InputItem(path, name, relative), acc)
    return _share(session, acc.share)


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
    session = _session(spec)
    acc = session.accumulator()
    iterator = iter(lines)
    first = next(iterator, None)
    if first is None:
        return _share(session, acc.share)
    stream = _LineStream(first, iterator)
    source = Source(
        name=file_name,
        path=None,
        opener=lambda: io.BufferedReader(stream, 1 << 16),
        hints={"range": True, "first_line": first[0]},
    )
    item = InputItem(None, file_name, relative)
    session.read(item, acc, source=source, readers=[_AnyLinesReader(spec.limits)])
    return _share(session, acc.share)


# --------------------------------------------------------------------------- driver


def finish(
    spec: RunSpec,
    shares_in_order: Iterable[Share],
    *,
    source_issues: Sequence[SourceIssue] = (),
    digests: Mapping[str, str] | None = None,
    elapsed: float = 0.0,
    started_at: datetime | None = None,
) -> Scorecard:
    """Merge the shares (in input order) and build the scorecard.

    ``source_issues`` are the problems the driver found while listing the inputs
    (reported before any share's). ``digests`` gives the sha256 of files whose records
    came in parts through :func:`validate_records` (by file name), for the provenance
    checks. ``elapsed`` is the time already spent (seconds) before this call and
    ``started_at`` when the run began; both only go into the scorecard's ``run`` section.
    """
    session = _session(spec)
    first = session.new_share()
    first.source_issues.extend(source_issues)
    first.digests.update(digests or {})
    return finish_session(
        session,
        _chain(first, shares_in_order),
        started=time.perf_counter() - elapsed,
        started_at=started_at or datetime.now(UTC),
    )


def _chain(first: Share, rest: Iterable[Share]) -> Iterator[Share]:
    yield first
    yield from rest

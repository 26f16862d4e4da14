"""Reading inputs and running the compiled checks over their records, in one process.

A :class:`Share` is what one process learns from its part of a run: finding counts and
examples, each check's per-feed state, record counts per file and per type. It is plain
picklable data, so parallel workers and cluster nodes send theirs back; shares merged
in input order give exactly a serial run's result. An :class:`Accumulator` fills one
share (or merges later ones into it), with the checks bound to it.
"""

from __future__ import annotations

import itertools
import signal
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance.checks.base import Check, Emit, RunContext
from conformance.checks.registry import CompiledStandard
from conformance.engine.collector import FindingCollector
from conformance.errors import InputError
from conformance.feed import FeedInfo
from conformance.findings import Location, Problem, Severity
from conformance.limits import Limits
from conformance.plugin.failures import PluginFailure
from conformance.readers.base import Reader, Record, Source, SourceIssue
from conformance.readers.discovery import InputItem, open_source
from conformance.scorecard.build import InputSummary

INPUT_REQUIREMENT = "INPUT"
"""Where input problems are counted when the standard has no 'parseable' requirement."""

Progress = Callable[[int, str], None]
"""Called every ``progress_every`` records with the records read so far and the file."""

_HELD_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


class AccountingError(RuntimeError):
    """The engine's record counts do not add up: an internal error, never a feed problem."""


def _signal_mask() -> set[int | signal.Signals] | None:
    """The current signal mask, or None where signals cannot be held (Windows)."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, ())


def select_reader(readers: Sequence[Reader], source: Source) -> Reader | None:
    best: Reader | None = None
    best_score = 0
    for reader in readers:
        score = reader.claims(source)
        if score > best_score:
            best, best_score = reader, score
    return best


def manifest_hint(feed: FeedInfo, relative: str | None) -> dict[str, Any]:
    if relative is None:
        return {}
    for entry in feed.files:
        if entry.path == relative:
            return {k: v for k, v in (("type", entry.type), ("table", entry.table)) if v}
    return {}


def hash_file(source: Source) -> None:
    if source.path is not None:
        with source.path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                source.digest.update(chunk)


@dataclass(slots=True)
class Share:
    """One process's part of a run, as plain picklable data (no checks, no closures)."""

    collector: FindingCollector
    states: list[object]
    """Each check's per-feed state, in the standard's order."""
    summaries: list[InputSummary] = field(default_factory=list)
    source_issues: list[SourceIssue] = field(default_factory=list)
    by_type: Counter[str] = field(default_factory=Counter)
    crashes: Counter[str] = field(default_factory=Counter)
    """Records (or finishes) on which a check raised, by requirement."""
    read: int = 0
    unparseable: int = 0
    plugin_failures: list[PluginFailure] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)
    """sha256 of files read in parts (by file name), computed by whoever split them."""

    @classmethod
    def start(cls, compiled: CompiledStandard, context: RunContext, cap: int) -> Share:
        """An empty share: no record read yet, every check's state fresh."""
        return cls(FindingCollector(cap), [check.start(context) for check in compiled.checks])


Visit = Callable[[Any, Record, Emit], None]
Target = tuple[Visit, object, Emit, str]
"""A check bound for one share: its visit method, its state, its emitter, its requirement."""


class Accumulator:
    """Fills one :class:`Share` by reading inputs, or merges later shares into it."""

    emitters: list[Emit]
    """Each check's emitter, bound to the share's collector."""
    targets: list[Target]
    dispatch: dict[str, list[Target]]
    """The checks each kind of record goes to (resource type or ``table:NAME``)."""
    unparseable_route: list[Target]
    input_emit: Emit
    """Reports input problems (under the parse requirement, else ``INPUT``)."""

    def __init__(self, compiled: CompiledStandard, share: Share) -> None:
        self.compiled = compiled
        self.share = share
        self._bind()

    def _bind(self) -> None:
        checks = self.compiled.checks
        collector = self.share.collector
        self.emitters = [
            collector.emitter(c.requirement.id, c.requirement.level.severity) for c in checks
        ]
        self.targets = [
            (c.visit, s, e, c.requirement.id)
            for c, s, e in zip(checks, self.share.states, self.emitters, strict=True)
        ]
        self.dispatch = {}
        self.unparseable_route = [
            t for c, t in zip(checks, self.targets, strict=True) if c.wants_unparseable
        ]
        parse = self.compiled.parse_check
        self.input_emit = collector.emitter(
            parse.requirement.id if parse is not None else INPUT_REQUIREMENT, Severity.ERROR
        )

    def route(self, kind: str) -> list[Target]:
        # Table rows go only to checks that name tables; every other check sees FHIR
        # resources (all of them when its applies_to is None).
        is_table = kind.startswith("table:")
        chosen = [
            target
            for c, target in zip(self.compiled.checks, self.targets, strict=True)
            if _routes(c, kind, is_table)
        ]
        self.dispatch[kind] = chosen
        return chosen

    def read_item(
        self,
        item: InputItem,
        feed: FeedInfo,
        readers: Sequence[Reader],
        limits: Limits,
        progress: Progress | None = None,
        every: int = 5000,
        source: Source | None = None,
        first: int | None = None,
    ) -> InputSummary | None:
        """Read one input (or a byte range of it, when ``source`` is given) and check it.

        ``first`` stops after that many records (a sample: the counts are then partial).
        """
        share = self.share
        if source is None:
            try:
                source = open_source(item, limits)
            except InputError as exc:
                share.source_issues.append(
                    SourceIssue("unreadable-input", str(exc), Location(item.name))
                )
                return None
        source.hints.update(manifest_hint(feed, item.relative))
        reader = select_reader(readers, source)
        summary = InputSummary(source.name, reader.name if reader else None, relative=item.relative)
        share.summaries.append(summary)
        if reader is None:
            share.source_issues.append(
                SourceIssue(
                    "unrecognised-format",
                    "no reader recognises this file's format",
                    Location(source.name),
                )
            )
            hash_file(source)
            summary.sha256 = source.digest.hexdigest()
            return summary
        dispatch = self.dispatch
        route = self.route
        unparseable_route = self.unparseable_route
        by_type = share.by_type
        crashes = share.crashes
        records = reader.read(source, share.source_issues.append)
        if first is not None:
            records = itertools.islice(records, first)
        for record in records:
            if record.error is not None:
                kind = None
                targets = unparseable_route
                if not targets:
                    self.input_emit(
                        Problem(record.error.code, record.error.message), record.location
                    )
            else:
                kind = record.resource_type or f"table:{record.table}"
                targets = dispatch.get(kind) or route(kind)
            for visit, state, emit, requirement in targets:
                try:
                    visit(state, record, emit)
                except Exception as exc:  # one bad record must not end the run
                    crashes[requirement] += 1
                    emit(
                        Problem(
                            "check-error", f"the check failed on this record ({type(exc).__name__})"
                        ),
                        record.location,
                        record.resource_type,
                        record.resource_id,
                    )
            # Count last, in plain stores with no call between them, so that an interrupt
            # (Ctrl-C, SIGTERM) lands between records and the counts always agree.
            if kind is None:
                share.unparseable += 1
                summary.records_unparseable += 1
            else:
                by_type[kind] += 1
            share.read += 1
            summary.records_read += 1
            if progress is not None and share.read % every == 0:
                progress(share.read, source.name)
        if source.path is not None and not source.hints.get("range"):
            summary.sha256 = source.digest.hexdigest()
        return summary

    def merge(self, share: Share) -> None:
        """Fold in a later share of the same run (shares must be merged in input order).

        Ctrl-C and SIGTERM are held while merging, so an interrupt never leaves the counts
        half-merged (they are checked by :meth:`check_counts`).
        """
        previous = _signal_mask()
        try:
            if previous is not None:
                signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
            self._merge(share)
        finally:
            if previous is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, previous)

    def check_counts(self) -> None:
        """The accounting invariant: every record read was validated or is unparseable,
        per file and in total. A broken invariant is a bug: raise, never report wrong counts.
        """
        share = self.share
        summaries = share.summaries
        problems: list[str] = []
        read = sum(s.records_read for s in summaries)
        unparseable = sum(s.records_unparseable for s in summaries)
        if read != share.read:
            problems.append(f"records read {share.read} but {read} over the files")
        if unparseable != share.unparseable:
            problems.append(f"unparseable {share.unparseable} but {unparseable} over the files")
        validated = sum(share.by_type.values())
        if validated != share.read - share.unparseable:
            problems.append(
                f"validated {share.read - share.unparseable} but {validated} by resource type"
            )
        bad = [s.file for s in summaries if not 0 <= s.records_unparseable <= s.records_read]
        if bad:
            problems.append(f"{len(bad)} file(s) with more unparseable records than read")
        if problems:
            raise AccountingError(
                "internal error: the record counts do not add up ("
                + "; ".join(problems)
                + "); the scorecard would be wrong, so none was made. Please report this."
            )

    def _merge(self, other: Share) -> None:
        share = self.share
        share.collector.merge(other.collector)
        share.states = [
            check.merge(mine, theirs)
            for check, mine, theirs in zip(
                self.compiled.checks, share.states, other.states, strict=True
            )
        ]
        for summary in other.summaries:
            last = share.summaries[-1] if share.summaries else None
            if last is not None and last.file == summary.file:
                last.records_read += summary.records_read
                last.records_unparseable += summary.records_unparseable
                last.sha256 = last.sha256 or summary.sha256
            else:
                share.summaries.append(summary)
        share.source_issues.extend(other.source_issues)
        share.by_type.update(other.by_type)
        share.crashes.update(other.crashes)
        share.read += other.read
        share.unparseable += other.unparseable
        failures = share.plugin_failures
        failures.extend(f for f in other.plugin_failures if f not in failures)
        share.digests.update(other.digests)
        self._bind()


def _routes(check: Check[Any], kind: str, is_table: bool) -> bool:
    applies_to = check.applies_to
    if applies_to is None:
        return not is_table or check.wants_unparseable
    return kind in applies_to or (is_table and "table:*" in applies_to)

"""Reading inputs and running the compiled checks over their records, in one process.

An :class:`Accumulator` holds everything a run remembers: finding counts and examples,
each check's per-feed state, record counts per file and per type. Parallel workers each
fill one, and the parent merges them (in input order, so the result is identical to a
serial run).
"""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mypy_extensions import mypyc_attr

from conformance.checks.base import Check, Emit, RunContext
from conformance.engine.collector import FindingCollector
from conformance.errors import InputError
from conformance.feed import FeedInfo
from conformance.findings import Location, Problem, Severity
from conformance.limits import Limits
from conformance.readers.base import Reader, Source, SourceIssue
from conformance.readers.discovery import InputItem, open_source
from conformance.scorecard.build import InputSummary
from conformance.standards.model import Standard

INPUT_REQUIREMENT = "INPUT"
"""Where input problems are counted when the standard has no 'parseable' requirement."""

Progress = Callable[[int, str], None]

_HELD_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


@mypyc_attr(native_class=False)  # RuntimeError cannot be the base of a compiled class
class AccountingError(RuntimeError):
    """The engine's record counts do not add up: an internal error, never a feed problem."""


def _signal_mask() -> set[int | signal.Signals] | None:
    """The current signal mask, or None where signals cannot be held (Windows)."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, ())


@dataclass(slots=True)
class CompiledStandard:
    standard: Standard
    checks: list[Check]
    parse_check: Check | None


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


class Accumulator:
    """One process's share of a run."""

    def __init__(self, compiled: CompiledStandard, context: RunContext, limits: Limits) -> None:
        self.compiled = compiled
        self.collector = FindingCollector(limits.findings_per_requirement)
        self.states: list[Any] = [check.start(context) for check in compiled.checks]
        self.summaries: list[InputSummary] = []
        self.source_issues: list[SourceIssue] = []
        self.by_type: Counter[str] = Counter()
        self.crashes: Counter[str] = Counter()
        self.read = 0
        self.unparseable = 0
        self._bind()

    def _bind(self) -> None:
        compiled = self.compiled
        self.emitters: list[Emit] = [
            self.collector.emitter(c.requirement.id, c.requirement.level.severity)
            for c in compiled.checks
        ]
        self.dispatch: dict[str, list[tuple[Check, Any, Emit]]] = {}
        self.unparseable_route = [
            (c, s, e)
            for c, s, e in zip(compiled.checks, self.states, self.emitters, strict=True)
            if c.wants_unparseable
        ]
        parse = compiled.parse_check
        self.input_emit = self.collector.emitter(
            parse.requirement.id if parse is not None else INPUT_REQUIREMENT, Severity.ERROR
        )

    SHARE_KEYS = (
        "collector",
        "states",
        "summaries",
        "source_issues",
        "by_type",
        "crashes",
        "read",
        "unparseable",
    )

    def share(self) -> dict[str, Any]:
        """What a worker sends back: plain, picklable data (no checks, no closures)."""
        return {k: getattr(self, k) for k in self.SHARE_KEYS}

    def route(self, kind: str) -> list[tuple[Check, Any, Emit]]:
        # Table rows go only to checks that name tables; every other check sees FHIR
        # resources (all of them when its applies_to is None).
        is_table = kind.startswith("table:")
        chosen = [
            (c, s, e)
            for c, s, e in zip(self.compiled.checks, self.states, self.emitters, strict=True)
            if (c.applies_to is None and (not is_table or c.wants_unparseable))
            or (
                c.applies_to is not None
                and (kind in c.applies_to or (is_table and "table:*" in c.applies_to))
            )
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
    ) -> InputSummary | None:
        """Read one input (or a byte range of it, when ``source`` is given) and check it."""
        if source is None:
            try:
                source = open_source(item, limits)
            except InputError as exc:
                self.source_issues.append(
                    SourceIssue("unreadable-input", str(exc), Location(item.name))
                )
                return None
        source.hints.update(manifest_hint(feed, item.relative))
        reader = select_reader(readers, source)
        summary = InputSummary(source.name, reader.name if reader else None, relative=item.relative)
        self.summaries.append(summary)
        if reader is None:
            self.source_issues.append(
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
        by_type = self.by_type
        for record in reader.read(source, self.source_issues.append):
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
            for check, state, emit in targets:
                try:
                    check.visit(state, record, emit)
                except Exception as exc:  # one bad record must not end the run
                    self.crashes[check.requirement.id] += 1
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
                self.unparseable += 1
                summary.records_unparseable += 1
            else:
                by_type[kind] += 1
            self.read += 1
            summary.records_read += 1
            if progress is not None and self.read % every == 0:
                progress(self.read, source.name)
        if source.path is not None and not source.hints.get("range"):
            summary.sha256 = source.digest.hexdigest()
        return summary

    def merge(self, share: dict[str, Any]) -> None:
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
        summaries = self.summaries
        problems: list[str] = []
        read = sum(s.records_read for s in summaries)
        unparseable = sum(s.records_unparseable for s in summaries)
        if read != self.read:
            problems.append(f"records read {self.read} but {read} over the files")
        if unparseable != self.unparseable:
            problems.append(f"unparseable {self.unparseable} but {unparseable} over the files")
        validated = sum(self.by_type.values())
        if validated != self.read - self.unparseable:
            problems.append(
                f"validated {self.read - self.unparseable} but {validated} by resource type"
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

    def _merge(self, share: dict[str, Any]) -> None:
        self.collector.merge(share["collector"])
        self.states = [
            check.merge(mine, theirs)
            for check, mine, theirs in zip(
                self.compiled.checks, self.states, share["states"], strict=True
            )
        ]
        for summary in share["summaries"]:
            last = self.summaries[-1] if self.summaries else None
            if last is not None and last.file == summary.file:
                last.records_read += summary.records_read
                last.records_unparseable += summary.records_unparseable
                last.sha256 = last.sha256 or summary.sha256
            else:
                self.summaries.append(summary)
        self.source_issues.extend(share["source_issues"])
        self.by_type.update(share["by_type"])
        self.crashes.update(share["crashes"])
        self.read += share["read"]
        self.unparseable += share["unparseable"]
        self._bind()

"""Turn a run's shares, merged in input order, into its scorecard.

Serial, parallel and distributed runs all end here: the shares are merged (in input
order, so the result is a serial run's), the accounting invariant is checked, source
problems become findings, every check's feed-level ``finish`` runs once with a
:class:`~conformance.checks.base.FinishContext`, and the scorecard is built.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from conformance.checks.base import FinishContext, Measure
from conformance.engine.accumulate import Accumulator, Share
from conformance.engine.collector import FindingCollector, LineFinder
from conformance.engine.session import Session
from conformance.errors import InputError
from conformance.findings import Location, Problem
from conformance.limits import Limits
from conformance.readers.discovery import InputItem, open_source
from conformance.readers.locate import (
    XmlPath,
    bundle_entry_lines,
    is_xml,
    xml_element_lines,
    xml_line,
    xml_path,
)
from conformance.scorecard.build import build_scorecard
from conformance.scorecard.model import Scorecard

__all__ = ["finish"]


def finish(
    session: Session,
    shares: Iterable[Share],
    *,
    complete: bool = True,
    files: Mapping[str, Path] | None = None,
    started: float | None = None,
    started_at: datetime | None = None,
) -> Scorecard:
    """Merge ``shares`` (in input order) and build the run's scorecard.

    ``shares`` may be a stream (a parallel run's, as workers finish): an interrupt
    (Ctrl-C, SIGTERM) while it is consumed ends the merging, and the scorecard of what was
    merged is marked incomplete, as it is when ``complete`` is False. ``files`` names the
    local file of each input (by its name in findings), to give findings inside Bundle
    entries their line. ``started`` (a ``time.perf_counter()`` value) and ``started_at``
    only go into the scorecard's ``run`` section.
    """
    started = time.perf_counter() if started is None else started
    started_at = (started_at or datetime.now(UTC)).replace(microsecond=0)
    acc: Accumulator | None = None
    try:
        for share in shares:
            if acc is None:
                acc = session.accumulator(share)
                continue
            acc.merge(share)
            summaries = acc.share.summaries
            if session.progress is not None and summaries:
                session.progress(acc.share.read, summaries[-1].file)
    except KeyboardInterrupt:
        complete = False
    if acc is None:
        acc = session.accumulator()
    acc.check_counts()
    merged = acc.share
    for summary in merged.summaries:
        if summary.file in merged.digests:
            summary.sha256 = merged.digests[summary.file]

    for issue in merged.source_issues:
        acc.input_emit(Problem(issue.code, issue.message, severity=issue.severity), issue.location)
    run = session.context
    context = FinishContext(
        run.feed,
        run.standard,
        run.history,
        source_issues=tuple(merged.source_issues),
        inputs=tuple(merged.summaries),
    )
    failures = session.new_failures()
    failures.extend(f for f in merged.plugin_failures if f not in failures)
    measures: dict[str, Measure | None] = {}
    checks = session.compiled.checks
    for check, state, emit in zip(checks, merged.states, acc.emitters, strict=True):
        try:
            measures[check.requirement.id] = check.finish(state, context, emit)
        except Exception as exc:
            merged.crashes[check.requirement.id] += 1
            emit(Problem("check-error", f"the check failed ({type(exc).__name__})"), Location())
            measures[check.requirement.id] = None
    session.plugins.registry.audit_codes(merged.collector.by_code, session.standard)
    merged.collector.place_lines(_line_finder(merged.collector, files or {}))
    failures.extend(f for f in session.new_failures() if f not in failures)
    return build_scorecard(
        standard=session.standard,
        feed=session.feed,
        measures=measures,
        collector=merged.collector,
        inputs=merged.summaries,
        counts={
            "records_read": merged.read,
            "records_validated": merged.read - merged.unparseable,
            "records_unparseable": merged.unparseable,
            "by_resource_type": dict(sorted(merged.by_type.items())),
        },
        complete=complete,
        plugin_failures=[{"plugin": f.plugin, "hook": f.hook, "error": f.error} for f in failures],
        crashes=dict(merged.crashes),
        started_at=started_at.isoformat().replace("+00:00", "Z"),
        duration=time.perf_counter() - started,
    )


def _line_finder(collector: FindingCollector, files: Mapping[str, Path]) -> LineFinder:
    """Where kept findings are in local input files, where the reader could not say: the
    line of a finding's Bundle entry (JSON), or of its element (FHIR XML). Each file that
    holds such a finding is scanned once, as a stream (memory stays small)."""
    wanted: dict[str, list[XmlPath]] = {}
    for file, line, expression, entry in collector.places():
        if _wanted(file, line, expression, entry):
            wanted.setdefault(file, []).append(xml_path(expression, entry))
    elements: dict[str, dict[XmlPath, int]] = {}
    entries: dict[str, list[int]] = {}
    for name, places in wanted.items():
        path = files.get(name)
        if path is None:
            continue
        try:
            with open_source(InputItem(path, name), Limits()).opener() as stream:
                if is_xml(name):
                    elements[name] = xml_element_lines(stream, places)
                else:
                    entries[name] = bundle_entry_lines(stream)
        except (OSError, EOFError, InputError):
            continue

    def find(name: str, line: int | None, expression: str | None, entry: int | None) -> int | None:
        if not _wanted(name, line, expression, entry):
            return None
        if name in elements:
            return xml_line(elements[name], expression, entry)
        lines = entries.get(name)
        if lines is None or entry is None or entry >= len(lines):
            return None
        return lines[entry]

    return find


def _wanted(file: str, line: int | None, expression: str | None, entry: int | None) -> bool:
    """A finding in FHIR XML with an element, or inside a Bundle entry with no line."""
    return (expression is not None and is_xml(file)) or (entry is not None and line is None)

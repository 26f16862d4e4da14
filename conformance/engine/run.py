"""The streaming engine: read every record once, run the compiled checks, build a scorecard."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance.checks.base import Check, CheckParamError, CompileEnv, Measure, RunContext
from conformance.engine.accumulate import (
    INPUT_REQUIREMENT,
    AccountingError,
    Accumulator,
    CompiledStandard,
    Progress,
)
from conformance.errors import InputError, StandardError
from conformance.feed import FeedInfo
from conformance.findings import Location, Problem
from conformance.limits import Limits
from conformance.plugin.manager import Plugins, build_plugins
from conformance.readers.base import Reader
from conformance.readers.discovery import InputItem, Inputs, find_inputs, open_source
from conformance.scorecard.build import build_scorecard
from conformance.scorecard.model import Scorecard
from conformance.standards.model import Standard
from conformance.standards.registry import StandardRegistry

DEFAULT_STANDARD = "mdss"
CHUNK_BYTES = 16 * 1024 * 1024
"""Plain NDJSON files larger than this are split into byte ranges for parallel workers."""

__all__ = [
    "INPUT_REQUIREMENT",
    "AccountingError",
    "Engine",
    "RunOptions",
    "compile_standard",
    "validate",
]


@dataclass(slots=True)
class RunOptions:
    standard: str | Path | Standard | None = None
    """A reference (``mdss@1``), a folder, a loaded standard, or None: the feed's
    manifest ``conformsTo`` if it names one, else the default standard."""
    limits: Limits = field(default_factory=Limits)
    progress: Progress | None = None
    progress_every: int = 5000
    plugins: Plugins | None = None
    context_extras: dict[str, Any] = field(default_factory=dict)
    environment: str | None = None
    """Overrides the manifest's ``environment`` (``test`` or ``production``)."""
    jobs: int | None = None
    """Worker processes: 1 serial; None or 0 all cores when the input is 32 MiB or more."""
    chunk_bytes: int = CHUNK_BYTES
    history: Any = None
    """A history store (:class:`conformance.history.HistoryStore`) for checks that need
    earlier submissions (MDSS-TIME-04); None: those checks are not applicable."""


def check_factories(plugins: Plugins) -> dict[str, Any]:
    return dict(plugins.registry.check_types)


def compile_standard(standard: Standard, plugins: Plugins) -> CompiledStandard:
    """Compile every requirement's check once; errors name standard.yaml and the line."""
    factories = check_factories(plugins)
    env = CompileEnv(standard)
    env.services["plugins"] = plugins  # for check types that consult other hooks (terminology)
    checks: list[Check] = []
    parse_check: Check | None = None
    where = standard.path / "standard.yaml"
    for req in standard.requirements:
        line = req.check.line or 0
        factory = factories.get(req.check.type)
        if factory is None:
            known = ", ".join(sorted(factories))
            raise StandardError(
                f"{where}:{line}: {req.id}: unknown check type '{req.check.type}' (known: {known})"
            )
        try:
            check = factory(req, req.check.params, env)
        except CheckParamError as exc:
            raise StandardError(f"{where}:{line}: {req.id}: check: {exc}") from None
        if check.wants_unparseable and parse_check is None:
            parse_check = check
        checks.append(check)
    return CompiledStandard(standard, checks, parse_check)


class Engine:
    """One run's plugins, standard and readers, compiled once and reused for each input."""

    def __init__(self, options: RunOptions) -> None:
        self.options = options
        self.plugins = options.plugins or build_plugins()
        self.registry = StandardRegistry.default(self.plugins.registry.standard_paths)
        self.readers: list[Reader] = [
            cls(options.limits) for cls in self.plugins.registry.readers.values()
        ]

    def resolve_standard(self, feed: FeedInfo) -> Standard:
        wanted = self.options.standard
        if isinstance(wanted, Standard):
            return wanted
        if wanted is None:
            # A feed names its standard only by reference: never a path (see feed.py).
            declared = feed.conforms_to
            try:
                return self.registry.resolve_reference(declared or DEFAULT_STANDARD)
            except StandardError as exc:
                if declared is None:
                    raise
                raise StandardError(f"{feed.manifest}: conformsTo '{declared}': {exc}") from None
        return self.registry.resolve(str(wanted))

    def run(self, inputs: Sequence[str | Path]) -> Scorecard:
        started = time.perf_counter()
        started_at = datetime.now(UTC).replace(microsecond=0)
        if not inputs:
            raise InputError("no input given")
        found = find_inputs([str(i) for i in inputs], self.options.limits)
        try:
            return self._run(found, started, started_at)
        finally:
            found.cleanup()

    def _jobs(self, found: Inputs) -> int:
        from conformance.engine.parallel import default_jobs

        jobs = self.options.jobs
        if self.options.plugins is not None and jobs != 1:
            return 1  # plugins given as objects cannot be rebuilt inside workers
        if jobs is None or jobs <= 0:
            return default_jobs(found.items)
        if any(item.path is None for item in found.items):
            return 1
        return jobs

    def _run(self, found: Inputs, started: float, started_at: datetime) -> Scorecard:
        options = self.options
        limits = options.limits
        if options.environment is not None:
            found.feed.environment = options.environment
        standard = self.resolve_standard(found.feed)
        compiled = compile_standard(standard, self.plugins)
        context = RunContext(
            found.feed, standard, history=options.history, extras=dict(options.context_extras)
        )
        acc = Accumulator(compiled, context, limits)
        acc.source_issues.extend(found.issues)
        complete = True
        jobs = self._jobs(found)
        try:
            if jobs > 1:
                self._read_parallel(acc, found, standard, jobs)
            else:
                for item in found.items:
                    acc.read_item(
                        item,
                        found.feed,
                        self.readers,
                        limits,
                        options.progress,
                        options.progress_every,
                    )
        except KeyboardInterrupt:
            complete = False
        acc.check_counts()

        for issue in acc.source_issues:
            acc.input_emit(
                Problem(issue.code, issue.message, severity=issue.severity), issue.location
            )
        context.extras["source_issues"] = acc.source_issues
        context.extras["inputs"] = acc.summaries
        measures: dict[str, Measure | None] = {}
        for check, state, emit in zip(compiled.checks, acc.states, acc.emitters, strict=True):
            try:
                measures[check.requirement.id] = check.finish(state, context, emit)
            except Exception as exc:
                acc.crashes[check.requirement.id] += 1
                emit(Problem("check-error", f"the check failed ({type(exc).__name__})"), Location())
                measures[check.requirement.id] = None
        self.plugins.registry.audit_codes(acc.collector.by_code, standard)
        _locate_bundle_entries(acc, found)
        return build_scorecard(
            standard=standard,
            feed=found.feed,
            measures=measures,
            collector=acc.collector,
            inputs=acc.summaries,
            counts={
                "records_read": acc.read,
                "records_validated": acc.read - acc.unparseable,
                "records_unparseable": acc.unparseable,
                "by_resource_type": dict(sorted(acc.by_type.items())),
            },
            complete=complete,
            plugin_failures=[
                {"plugin": f.plugin, "hook": f.hook, "error": f.error}
                for f in self.plugins.failures
            ],
            crashes=dict(acc.crashes),
            started_at=started_at.isoformat().replace("+00:00", "Z"),
            duration=time.perf_counter() - started,
        )

    def _read_parallel(
        self, acc: Accumulator, found: Inputs, standard: Standard, jobs: int
    ) -> None:
        from conformance.engine.parallel import plan, run_parallel

        tasks, digests = plan(found.items, jobs, self.options.chunk_bytes)
        progress = self.options.progress
        for share in run_parallel(tasks, jobs, self.options, standard.path, found.feed):
            self.plugins.failures.extend(
                f for f in share.pop("plugin_failures") if f not in self.plugins.failures
            )
            acc.merge(share)
            if progress is not None and acc.summaries:
                progress(acc.read, acc.summaries[-1].file)
        for summary in acc.summaries:
            if summary.file in digests:
                summary.sha256 = digests[summary.file]


def _locate_bundle_entries(acc: Accumulator, found: Inputs) -> None:
    """Give kept findings inside Bundle entries the entry's line, and those in FHIR XML
    their element's line (for SARIF, annotations)."""
    from dataclasses import replace

    from conformance.readers.locate import (
        bundle_entry_lines,
        is_xml,
        xml_element_lines,
        xml_line,
        xml_path,
    )

    wanted: dict[str, list[Any]] = {}
    for findings in acc.collector.kept.values():
        for finding in findings:
            loc = finding.location
            in_xml = loc.expression is not None and is_xml(loc.file or "")
            if loc.file is not None and (in_xml or (loc.entry is not None and loc.line is None)):
                wanted.setdefault(loc.file, []).append(finding)
    if not wanted:
        return
    paths = {item.name: item.path for item in found.items if item.path is not None}
    for name, findings in wanted.items():
        path = paths.get(name)
        if path is None:
            continue
        try:
            source = open_source(InputItem(path, name), Limits())
            with source.opener() as stream:  # streaming scans: memory stays small
                if is_xml(name):
                    places = [xml_path(f.location.expression, f.location.entry) for f in findings]
                    elements = xml_element_lines(stream, places)
                else:
                    lines = bundle_entry_lines(stream)
        except (OSError, EOFError, InputError):
            continue
        if is_xml(name):
            for finding in findings:
                loc = finding.location
                line = xml_line(elements, loc.expression, loc.entry)
                if line is not None:
                    finding.location = replace(loc, line=line)
            continue
        for finding in findings:
            entry = finding.location.entry
            if entry is not None and entry < len(lines):
                finding.location = replace(finding.location, line=lines[entry])


def validate(
    inputs: Sequence[str | Path],
    standard: str | Path | Standard | None = None,
    *,
    limits: Limits | None = None,
    progress: Progress | None = None,
    plugins: Plugins | None = None,
    environment: str | None = None,
    jobs: int | None = None,
) -> Scorecard:
    """Validate a feed (files, folders, archives, ``-`` for stdin) against a standard.

    ``standard`` is a reference such as ``"mdss"``, ``"mdss@1.0.0"`` or a folder; by
    default the feed manifest's ``conformsTo``, else the latest active MDSS. ``jobs``
    sets the worker processes (None: all cores when the input is large enough).
    """
    options = RunOptions(
        standard=standard,
        limits=limits or Limits(),
        progress=progress,
        plugins=plugins,
        environment=environment,
        jobs=jobs,
    )
    return Engine(options).run(inputs)

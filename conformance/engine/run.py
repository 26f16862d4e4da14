"""The streaming engine: read every record once, run the compiled checks, build a scorecard."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance.checks.base import (
    Check,
    CheckParamError,
    CompileEnv,
    Emit,
    Measure,
    RunContext,
)
from conformance.engine.collector import FindingCollector
from conformance.errors import InputError, PluginError, StandardError
from conformance.feed import FeedInfo
from conformance.findings import Finding, Location, Problem, Severity
from conformance.limits import Limits
from conformance.plugin.manager import Plugins, build_plugins
from conformance.readers.base import Reader, Source, SourceIssue
from conformance.readers.discovery import find_inputs, open_source
from conformance.scorecard.build import InputSummary, build_scorecard
from conformance.scorecard.model import Scorecard
from conformance.standards.model import Standard
from conformance.standards.registry import StandardRegistry

DEFAULT_STANDARD = "mdss"
INPUT_REQUIREMENT = "INPUT"
"""Where input problems are counted when the standard has no 'parseable' requirement."""

Progress = Callable[[int, str], None]


@dataclass(slots=True)
class RunOptions:
    standard: str | Standard | None = None
    """A reference (``mdss@1``), a folder, a loaded standard, or None: the feed's
    manifest ``conformsTo`` if it names one, else the default standard."""
    limits: Limits = field(default_factory=Limits)
    progress: Progress | None = None
    progress_every: int = 5000
    plugins: Plugins | None = None
    context_extras: dict[str, Any] = field(default_factory=dict)
    environment: str | None = None
    """Overrides the manifest's ``environment`` (``test`` or ``production``)."""


@dataclass(slots=True)
class CompiledStandard:
    standard: Standard
    checks: list[Check]
    parse_check: Check | None


def check_factories(plugins: Plugins) -> dict[str, Any]:
    factories: dict[str, Any] = {}
    owners: dict[str, str] = {}
    for plugin_name, mapping in plugins.call("conformance_check_types"):
        for type_name, factory in mapping.items():
            if type_name in factories:
                raise PluginError(
                    f"check type '{type_name}' is registered by both {owners[type_name]} "
                    f"and {plugin_name}"
                )
            factories[type_name] = factory
            owners[type_name] = plugin_name
    return factories


def compile_standard(standard: Standard, plugins: Plugins) -> CompiledStandard:
    """Compile every requirement's check once; errors name standard.yaml and the line."""
    factories = check_factories(plugins)
    env = CompileEnv(standard)
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


def _select_reader(readers: Sequence[Reader], source: Source) -> Reader | None:
    best: Reader | None = None
    best_score = 0
    for reader in readers:
        score = reader.claims(source)
        if score > best_score:
            best, best_score = reader, score
    return best


class Engine:
    """One run's plugins, standard and readers, compiled once and reused for each input."""

    def __init__(self, options: RunOptions) -> None:
        self.options = options
        self.plugins = options.plugins or build_plugins()
        extra_roots = [
            Path(p) for _, paths in self.plugins.call("conformance_standard_paths") for p in paths
        ]
        self.registry = StandardRegistry.default(extra_roots)
        self.readers: list[Reader] = [
            cls(options.limits)
            for _, classes in self.plugins.call("conformance_readers")
            for cls in classes
        ]

    def resolve_standard(self, feed: FeedInfo) -> Standard:
        wanted = self.options.standard
        if isinstance(wanted, Standard):
            return wanted
        if wanted is None:
            wanted = feed.conforms_to or DEFAULT_STANDARD
        return self.registry.resolve(wanted)

    def run(self, inputs: Sequence[str | Path]) -> Scorecard:
        started = time.perf_counter()
        started_at = datetime.now(UTC).replace(microsecond=0)
        limits = self.options.limits
        if not inputs:
            raise InputError("no input given")
        found = find_inputs([str(i) for i in inputs], limits)
        if self.options.environment is not None:
            found.feed.environment = self.options.environment
        standard = self.resolve_standard(found.feed)
        compiled = compile_standard(standard, self.plugins)
        collector = FindingCollector(limits.findings_per_requirement)
        context = RunContext(found.feed, standard, extras=dict(self.options.context_extras))
        states: list[Any] = [check.start(context) for check in compiled.checks]
        emitters: list[Emit] = [
            collector.emitter(c.requirement.id, c.requirement.level.severity)
            for c in compiled.checks
        ]
        dispatch: dict[str, list[tuple[Check, Any, Emit]]] = {}
        unparseable_route: list[tuple[Check, Any, Emit]] = [
            (c, s, e)
            for c, s, e in zip(compiled.checks, states, emitters, strict=True)
            if c.wants_unparseable
        ]
        input_emit = (
            collector.emitter(compiled.parse_check.requirement.id, Severity.ERROR)
            if compiled.parse_check is not None
            else collector.emitter(INPUT_REQUIREMENT, Severity.ERROR)
        )

        def route(kind: str) -> list[tuple[Check, Any, Emit]]:
            chosen = [
                (c, s, e)
                for c, s, e in zip(compiled.checks, states, emitters, strict=True)
                if c.applies_to is None or kind in c.applies_to
            ]
            dispatch[kind] = chosen
            return chosen

        source_issues: list[SourceIssue] = list(found.issues)
        summaries: list[InputSummary] = []
        by_type: Counter[str] = Counter()
        crashes: Counter[str] = Counter()
        read = unparseable = 0
        complete = True
        progress = self.options.progress
        every = self.options.progress_every
        try:
            for item in found.sources:
                try:
                    source = open_source(item, limits)
                except InputError as exc:
                    source_issues.append(
                        SourceIssue("unreadable-input", str(exc), Location(str(item)))
                    )
                    continue
                hint = _manifest_hint(found.feed, source)
                if hint:
                    source.hints.update(hint)
                reader = _select_reader(self.readers, source)
                summary = InputSummary(source.name, reader.name if reader else None)
                summaries.append(summary)
                if reader is None:
                    source_issues.append(
                        SourceIssue(
                            "unrecognised-format",
                            "no reader recognises this file's format",
                            Location(source.name),
                        )
                    )
                    _close_digest(source)
                    summary.sha256 = source.digest.hexdigest()
                    continue
                for record in reader.read(source, source_issues.append):
                    read += 1
                    summary.records_read += 1
                    if record.error is not None:
                        unparseable += 1
                        summary.records_unparseable += 1
                        targets = unparseable_route
                        if not targets:
                            input_emit(
                                Problem(record.error.code, record.error.message), record.location
                            )
                    else:
                        kind = record.resource_type or f"table:{record.table}"
                        by_type[kind] += 1
                        targets = dispatch.get(kind) or route(kind)
                    for check, state, emit in targets:
                        try:
                            check.visit(state, record, emit)
                        except Exception as exc:  # one bad record must not end the run
                            crashes[check.requirement.id] += 1
                            emit(
                                Problem(
                                    "check-error",
                                    f"the check failed on this record ({type(exc).__name__})",
                                ),
                                record.location,
                                record.resource_type,
                                record.resource_id,
                            )
                    if progress is not None and read % every == 0:
                        progress(read, source.name)
                summary.sha256 = source.digest.hexdigest() if source.path else None
        except KeyboardInterrupt:
            complete = False

        for issue in source_issues:
            input_emit(Problem(issue.code, issue.message, severity=issue.severity), issue.location)
        context.extras["source_issues"] = source_issues
        context.extras["inputs"] = summaries
        measures: list[Measure | None] = []
        for check, state, emit in zip(compiled.checks, states, emitters, strict=True):
            try:
                measures.append(check.finish(state, context, emit))
            except Exception as exc:
                crashes[check.requirement.id] += 1
                emit(Problem("check-error", f"the check failed ({type(exc).__name__})"), Location())
                measures.append(None)
        return build_scorecard(
            standard=standard,
            feed=found.feed,
            measures=dict(zip([c.requirement.id for c in compiled.checks], measures, strict=True)),
            collector=collector,
            inputs=summaries,
            counts={
                "records_read": read,
                "records_validated": read - unparseable,
                "records_unparseable": unparseable,
                "by_resource_type": dict(sorted(by_type.items())),
            },
            complete=complete,
            plugin_failures=[
                {"plugin": f.plugin, "hook": f.hook, "error": f.error}
                for f in self.plugins.failures
            ],
            crashes=dict(crashes),
            started_at=started_at.isoformat().replace("+00:00", "Z"),
            duration=time.perf_counter() - started,
        )


def _close_digest(source: Source) -> None:
    if source.path is not None:
        source.digest.update(source.path.read_bytes())


def _manifest_hint(feed: FeedInfo, source: Source) -> dict[str, Any]:
    if feed.root is None or source.path is None:
        return {}
    try:
        rel = source.path.relative_to(feed.root).as_posix()
    except ValueError:
        return {}
    for entry in feed.files:
        if entry.path == rel:
            return {k: v for k, v in (("type", entry.type), ("table", entry.table)) if v}
    return {}


def validate(
    inputs: Sequence[str | Path],
    standard: str | Standard | None = None,
    *,
    limits: Limits | None = None,
    progress: Progress | None = None,
    plugins: Plugins | None = None,
    environment: str | None = None,
) -> Scorecard:
    """Validate a feed (files, folders, ``-`` for stdin) against a standard.

    ``standard`` is a reference such as ``"mdss"``, ``"mdss@1.0.0"`` or a folder; by
    default the feed manifest's ``conformsTo``, else the latest active MDSS.
    """
    options = RunOptions(
        standard=standard,
        limits=limits or Limits(),
        progress=progress,
        plugins=plugins,
        environment=environment,
    )
    return Engine(options).run(inputs)


__all__ = ["Engine", "Finding", "RunOptions", "validate"]

"""A run's live objects, built once from its :class:`RunSpec` in every process taking part.

Serial, parallel and distributed runs all open the same :class:`Session`: the plugin
manager, the readers, the resolved standard compiled into checks, and the checks'
context. A local parallel run opens it once: workers are forked from the process that
opened (and warmed) it, so they inherit it; a worker that cannot be forked, or a cluster
node, opens its own from the session's pinned :attr:`Session.spec`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from conformance.checks.base import History, RunContext
from conformance.checks.registry import CompiledStandard, compile_with_plugins, records_only
from conformance.checks.structure import EXTENSIONS_SERVICE, PACKAGES_SERVICE, PROFILES_SERVICE
from conformance.engine.accumulate import Accumulator, Progress, Share
from conformance.engine.spec import DEFAULT_STANDARD, RunSpec
from conformance.errors import StandardError
from conformance.feed import FeedInfo
from conformance.plugin.failures import PluginFailure
from conformance.plugin.manager import Plugins
from conformance.readers.base import Reader, Source
from conformance.readers.discovery import InputItem
from conformance.standards.model import Standard
from conformance.standards.registry import StandardRegistry

WARM_RECORDS = 25
"""Records of each input checked (and thrown away) to warm a session before forking."""


@dataclass(slots=True)
class Session:
    """Everything one process needs to read its part of a run and to finish it."""

    spec: RunSpec
    """The run's spec, pinned: the resolved standard's reference and folder, the feed."""
    plugins: Plugins
    readers: list[Reader]
    compiled: CompiledStandard
    context: RunContext
    progress: Progress | None = None
    _failures_seen: int = 0

    @classmethod
    def open(
        cls,
        spec: RunSpec,
        *,
        plugins: Plugins | None = None,
        standard: Standard | None = None,
        history: History | None = None,
        progress: Progress | None = None,
    ) -> Session:
        """Build the session: plugins (unless given), readers, the standard, its checks.

        The standard is ``standard`` if given, else the spec's (see :func:`_resolve`).
        Errors name the standard (:class:`~conformance.errors.StandardError`).
        """
        plugins = plugins if plugins is not None else spec.build_plugins()
        seen = len(plugins.failures)
        feed = spec.feed if spec.feed is not None else FeedInfo()
        if spec.environment is not None:
            feed = replace(feed, environment=spec.environment)
        registry = StandardRegistry.default(plugins.registry.standard_paths)
        if standard is None:
            standard = _resolve(registry, spec, feed)
        readers = [reader(spec.limits) for reader in plugins.registry.readers.values()]
        fhir = {
            PACKAGES_SERVICE: spec.packages,
            PROFILES_SERVICE: spec.profiles,
            EXTENSIONS_SERVICE: (spec.example_extensions, spec.extension_domains),
        }
        compiled = compile_with_plugins(standard, plugins, fhir)
        if spec.records_only:
            compiled = records_only(compiled)
        if any(getattr(check, "whole_bundles", False) for check in compiled.checks):
            for reader in readers:  # a check judges Bundles whole, as a FHIR validator does
                if hasattr(reader, "whole_bundles"):
                    reader.whole_bundles = True
        pinned = replace(spec, standard=standard.ref, standard_folder=str(standard.path), feed=feed)
        context = RunContext(feed, standard, history)
        return cls(pinned, plugins, readers, compiled, context, progress, seen)

    @property
    def feed(self) -> FeedInfo:
        return self.context.feed

    @property
    def standard(self) -> Standard:
        return self.compiled.standard

    def new_share(self) -> Share:
        """An empty share of this run (no record read, every check's state fresh)."""
        return Share.start(self.compiled, self.context, self.spec.limits.findings_per_requirement)

    def accumulator(self, share: Share | None = None) -> Accumulator:
        """An accumulator filling ``share`` (a new one if None) with this run's checks."""
        return Accumulator(self.compiled, share if share is not None else self.new_share())

    def read(
        self,
        item: InputItem,
        acc: Accumulator,
        *,
        source: Source | None = None,
        progress: Progress | None = None,
        readers: Sequence[Reader] | None = None,
    ) -> None:
        """Read one input (or a part of it, when ``source`` is given) into ``acc``.

        ``readers`` replaces the session's own readers (e.g. one format forced).
        """
        limits = self.spec.limits
        every = self.spec.progress_every
        chosen = self.readers if readers is None else readers
        acc.read_item(item, self.feed, chosen, limits, progress, every, source)

    def new_failures(self) -> list[PluginFailure]:
        """Plugin failures recorded since the last call (or since the session opened)."""
        failures = self.plugins.failures[self._failures_seen :]
        self._failures_seen += len(failures)
        return failures

    def warm(self, items: Sequence[InputItem], records: int = WARM_RECORDS) -> None:
        """Compile now what the checks compile on first use, before workers are forked.

        Checks compile lazily what their records need (profiles, FHIRPath invariants,
        table schemas...): the first ``records`` records of each input are checked in a
        share that is thrown away, so that forked workers inherit all that and none
        compiles it again. Checks keep their per-feed state in shares, never on
        themselves, so this changes no result.
        """
        acc = self.accumulator()
        for item in items:
            acc.read_item(item, self.feed, self.readers, self.spec.limits, first=records)


def _resolve(registry: StandardRegistry, spec: RunSpec, feed: FeedInfo) -> Standard:
    """The spec's standard: its folder where it can be seen, else its reference, else the
    one the feed declares (by reference only: never a path), else the default."""
    folder = Path(spec.standard_folder) if spec.standard_folder else None
    if folder is not None and (folder / "standard.yaml").is_file():
        return registry.load_folder(folder)
    if spec.standard is not None:
        return registry.resolve(spec.standard)
    declared = feed.conforms_to
    try:
        return registry.resolve_reference(declared or DEFAULT_STANDARD)
    except StandardError as exc:
        if declared is None:
            raise
        raise StandardError(f"{feed.manifest}: conformsTo '{declared}': {exc}") from None

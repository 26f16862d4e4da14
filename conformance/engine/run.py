"""The streaming engine: find a feed's inputs, read every record once, build a scorecard.

:func:`validate` checks one feed per call; an :class:`Engine` does the same for several
feeds in turn with one plugin manager (each :meth:`Engine.run` opens its own session, so
each feed is judged by the standard its manifest declares).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from conformance.checks.base import History
from conformance.engine.accumulate import INPUT_REQUIREMENT, AccountingError, Progress, Share
from conformance.engine.finish import finish
from conformance.engine.parallel import default_jobs, fork_available, plan, run_parallel
from conformance.engine.session import Session
from conformance.engine.spec import CHUNK_BYTES, DEFAULT_STANDARD, RunSpec
from conformance.errors import InputError
from conformance.limits import Limits
from conformance.plugin.manager import Plugins
from conformance.readers.discovery import Inputs, find_inputs
from conformance.scorecard.model import Scorecard
from conformance.standards.model import Standard

__all__ = [
    "CHUNK_BYTES",
    "DEFAULT_STANDARD",
    "INPUT_REQUIREMENT",
    "AccountingError",
    "Engine",
    "RunSpec",
    "validate",
]


class Engine:
    """Validates feeds as ``spec`` says, with the live objects a spec cannot carry.

    ``standard`` is a standard already loaded (it wins over ``spec.standard``);
    ``plugins`` a plugin manager to use instead of building one from the spec;
    ``progress`` is called as records are read; ``history`` is the submission history
    for the checks that need it (MDSS-TIME-04).
    """

    def __init__(
        self,
        spec: RunSpec | None = None,
        *,
        standard: Standard | None = None,
        plugins: Plugins | None = None,
        progress: Progress | None = None,
        history: History | None = None,
    ) -> None:
        self.spec = spec if spec is not None else RunSpec()
        self.standard = standard
        self._own_plugins = plugins is None
        self.plugins = plugins if plugins is not None else self.spec.build_plugins()
        self.progress = progress
        self.history = history

    def run(self, inputs: Sequence[str | Path]) -> Scorecard:
        """Validate one feed: files, folders, archives, ``-`` for standard input."""
        started = time.perf_counter()
        started_at = datetime.now(UTC)
        if not inputs:
            raise InputError("no input given")
        found = find_inputs([str(i) for i in inputs], self.spec.limits)
        try:
            session = Session.open(
                replace(self.spec, feed=found.feed),
                plugins=self.plugins,
                standard=self.standard,
                history=self.history,
                progress=self.progress,
            )
            files = {item.name: item.path for item in found.items if item.path is not None}
            jobs = self._jobs(found)
            if jobs > 1:
                shares = _read_parallel(session, found, jobs)
                return finish(session, shares, files=files, started=started, started_at=started_at)
            acc = session.accumulator()
            acc.share.source_issues.extend(found.issues)
            complete = True
            try:
                for item in found.items:
                    session.read(item, acc, progress=session.progress)
            except KeyboardInterrupt:
                complete = False
            return finish(
                session,
                [acc.share],
                complete=complete,
                files=files,
                started=started,
                started_at=started_at,
            )
        finally:
            found.cleanup()

    def _jobs(self, found: Inputs) -> int:
        jobs = self.spec.jobs
        if jobs == 1 or any(item.path is None for item in found.items):
            return 1  # standard input streams through one process
        if not fork_available() and (not self._own_plugins or self.standard is not None):
            return 1  # objects given to the engine cannot be rebuilt inside spawned workers
        if jobs is None or jobs <= 0:
            return default_jobs(found.items)
        return jobs


def _read_parallel(session: Session, found: Inputs, jobs: int) -> Iterator[Share]:
    """The shares of a parallel run in input order, the inputs' own problems first."""
    tasks, digests = plan(found.items, jobs, session.spec.chunk_bytes)
    first = session.new_share()
    first.source_issues.extend(found.issues)
    first.digests.update(digests)
    yield first
    yield from run_parallel(session, tasks, jobs)


def validate(
    inputs: Sequence[str | Path],
    standard: str | Path | Standard | None = None,
    *,
    limits: Limits | None = None,
    progress: Progress | None = None,
    plugins: Plugins | None = None,
    environment: str | None = None,
    jobs: int | None = None,
    history: History | None = None,
) -> Scorecard:
    """Validate one feed (files, folders, archives, ``-`` for stdin) against a standard.

    ``standard`` is a reference such as ``"mdss"``, ``"mdss@1.0.0"``, a folder or a loaded
    :class:`Standard`; by default the feed manifest's ``conformsTo``, else the latest
    active MDSS. ``jobs`` sets the worker processes (None: all cores when the input is
    large enough). ``history`` is a submission history (MDSS-TIME-04 is not applicable
    without one).
    """
    loaded = standard if isinstance(standard, Standard) else None
    spec = RunSpec(
        standard=None if loaded is not None or standard is None else str(standard),
        limits=limits or Limits(),
        environment=environment,
        jobs=jobs,
    )
    engine = Engine(spec, standard=loaded, plugins=plugins, progress=progress, history=history)
    return engine.run(inputs)

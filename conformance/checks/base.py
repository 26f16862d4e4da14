"""How requirements are checked.

A standard's requirement names a *check type* (``check: {type: nhs-number-valid}``). The
check type's factory compiles it once per run into a :class:`Check`. The engine then
calls :meth:`Check.visit` for every record the check applies to, and
:meth:`Check.finish` once at the end of the feed.

A check keeps its per-feed state in an object it creates with :meth:`Check.start`, never
on itself, so that partial states from parallel workers can be merged exactly with
:meth:`Check.merge`. Record-level checks derive from :class:`RecordCheck` and only say
what is wrong with one resource; feed-level measures (reference resolution, duplicates,
completeness) override ``visit``/``merge``/``finish``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from mypy_extensions import mypyc_attr

# FeedInfo and Standard type dataclass fields below: imported at run time, since the
# compiled build (mypyc) resolves dataclass field types when it creates the class.
from conformance.feed import FeedInfo
from conformance.findings import Location, Problem, Severity
from conformance.standards.model import Standard

if TYPE_CHECKING:
    from conformance.readers.base import Record
    from conformance.standards.model import Requirement


@dataclass(slots=True)
class Measure:
    """The result of a requirement over a feed: numerator of denominator records passing.

    ``status`` forces a status (e.g. ``not-applicable`` for TIME-04 without history, or
    ``fail`` for a missing manifest); otherwise the status follows from the rate and the
    requirement's threshold.
    """

    numerator: int = 0
    denominator: int = 0
    status: str | None = None
    note: str | None = None

    @property
    def rate(self) -> float | None:
        return None if self.denominator == 0 else self.numerator / self.denominator


@mypyc_attr(allow_interpreted_subclasses=True)  # a base for plugins' states
@dataclass(slots=True)
class Tally:
    """The usual state of a record-level check: records passing / records checked."""

    passed: int = 0
    checked: int = 0


class Emit(Protocol):
    """Reports a finding against the check's requirement."""

    def __call__(
        self,
        problem: Problem,
        location: Location,
        resource_type: str | None = None,
        resource_id: str | None = None,
    ) -> None: ...


@dataclass(slots=True)
class RunContext:
    """What checks may read about the run (never modify)."""

    feed: FeedInfo
    standard: Standard
    history: Any = None
    """A history store (issue: scorecard history), or None when the run has none."""
    extras: dict[str, Any] = field(default_factory=dict)


@mypyc_attr(allow_interpreted_subclasses=True)  # a base for plugins' checks
class Check:
    """A compiled check for one requirement."""

    applies_to: frozenset[str] | None = None
    """Resource types (or ``table:NAME``) visited; None means every record."""
    wants_unparseable: ClassVar[bool] = False
    """True for the check that accounts for records that could not be parsed."""

    def __init__(self, requirement: Requirement) -> None:
        self.requirement = requirement
        if requirement.applies_to:
            self.applies_to = frozenset(requirement.applies_to)

    def start(self, context: RunContext) -> Any:
        """A fresh per-feed state; ``context`` tells what is known before any record."""
        return Tally()

    def visit(self, state: Any, record: Record, emit: Emit) -> None:
        raise NotImplementedError

    def merge(self, state: Any, other: Any) -> Any:
        state.passed += other.passed
        state.checked += other.checked
        return state

    def finish(self, state: Any, context: RunContext, emit: Emit) -> Measure:
        return Measure(state.passed, state.checked)


@mypyc_attr(allow_interpreted_subclasses=True)  # a base for plugins' checks
class RecordCheck(Check):
    """A check that judges each resource on its own.

    Subclasses implement :meth:`problems`; a resource passes when it has none that
    count against it: a problem at the requirement's own level counts, and so does one
    explicitly raised to error; one explicitly lowered (a FHIR warning under a MUST, or
    information) is reported but does not fail the resource.
    """

    def problems(self, resource: dict[str, Any]) -> Iterable[Problem]:
        raise NotImplementedError

    def visit(self, state: Any, record: Record, emit: Emit) -> None:
        resource = record.resource
        assert resource is not None
        state.checked += 1
        failed = False
        for problem in self.problems(resource):
            if problem.severity is None or problem.severity is Severity.ERROR:
                failed = True
            emit(
                problem,
                record.location.at(problem.expression),
                record.resource_type,
                record.resource_id,
            )
        if not failed:
            state.passed += 1


class CheckFactory(Protocol):
    """Compiles a requirement into a :class:`Check` (register with ``conformance_check_types``)."""

    def __call__(
        self, requirement: Requirement, params: Mapping[str, Any], env: CompileEnv
    ) -> Check: ...


@dataclass(slots=True)
class CompileEnv:
    """What check factories may use while compiling: the standard and shared services."""

    standard: Standard
    services: dict[str, Any] = field(default_factory=dict)
    """Lazily built shared objects (e.g. the FHIR validator), keyed by name."""

    def service(self, name: str, build: Any) -> Any:
        if name not in self.services:
            self.services[name] = build()
        return self.services[name]


class CheckParamError(ValueError):
    """A requirement's check parameters are wrong; the loader adds file and line."""


def param(
    params: Mapping[str, Any], name: str, kind: type | tuple[type, ...], default: Any = ...
) -> Any:
    """Read one check parameter, with a clear error when it is missing or of the wrong type."""
    if name not in params:
        if default is ...:
            raise CheckParamError(f"missing parameter '{name}'")
        return default
    value = params[name]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise CheckParamError(f"parameter '{name}' must be {names}")
    return value

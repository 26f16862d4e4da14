"""How requirements are checked.

A standard's requirement names a *check type* (``check: {type: nhs-number-valid}``). The
check type's factory compiles it once per run into a :class:`Check`. The engine then
calls :meth:`Check.visit` for every record the check applies to, and
:meth:`Check.finish` once at the end of the feed.

A check keeps its per-feed state in an object it creates with :meth:`Check.start`, never
on itself, so that partial states from parallel workers can be merged exactly with
:meth:`Check.merge`. ``Check`` is generic in that state's type (``Check[Tally]``,
``Check[MyState]``): states travel between processes (plain, picklable data) and the
type says what they hold. Record-level checks derive from :class:`RecordCheck` and only
say what is wrong with one resource; feed-level measures (reference resolution,
duplicates, completeness) override ``start``/``visit``/``merge``/``finish``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar, cast

from mypy_extensions import mypyc_attr

# FeedInfo, SourceIssue and Standard type the context dataclasses' fields below: imported
# at run time, since the compiled build (mypyc) resolves dataclass field types when it
# creates the class.
from conformance.feed import FeedInfo
from conformance.findings import Location, Problem, Severity
from conformance.readers.base import SourceIssue
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


# Not native: plugins' states subclass it (often as slots dataclasses), and a compiled
# class pickles only its own attributes; see hatch_build.py.
@mypyc_attr(native_class=False)
@dataclass(slots=True)
class Tally:
    """The usual state of a record-level check: records passing / records checked."""

    passed: int = 0
    checked: int = 0


Place = tuple[str | None, int | None, int | None, int | None, int | None]
"""A :class:`Location` without its expression (file, line, column, entry, row), as a plain
tuple. Check states keep places this way: states travel between processes, and plain
tuples pickle smaller and unpickle many times faster than objects."""


def place_of(location: Location) -> Place:
    return (location.file, location.line, location.column, location.entry, location.row)


def located(place: Place, expression: str | None = None) -> Location:
    """The :class:`Location` of ``place``, narrowed to ``expression``."""
    return Location(*place, expression)


class Emit(Protocol):
    """Reports a finding against the check's requirement."""

    def __call__(
        self,
        problem: Problem,
        location: Location,
        resource_type: str | None = None,
        resource_id: str | None = None,
    ) -> None: ...


class History(Protocol):
    """A store of earlier submissions (:class:`conformance.history.HistoryStore`)."""

    def submissions(self, ics: str, sender: str, standard_id: str) -> Sequence[object]: ...


class InputFile(Protocol):
    """What finish-time checks may read of one input file (the engine's input summary)."""

    @property
    def file(self) -> str: ...
    @property
    def relative(self) -> str | None: ...
    @property
    def records_read(self) -> int: ...
    @property
    def sha256(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class RunContext:
    """What checks may read about the run, before any record is read."""

    feed: FeedInfo
    standard: Standard
    history: History | None = None
    """The run's submission history (MDSS-TIME-04), or None when the run has none."""


@dataclass(frozen=True, slots=True)
class FinishContext(RunContext):
    """What checks may read when the feed has been read: the run, and what was read."""

    source_issues: tuple[SourceIssue, ...] = ()
    """Problems with inputs as a whole (unreadable, truncated, limits hit), in input order."""
    inputs: tuple[InputFile, ...] = ()
    """Every input file read, in input order, with its record count and sha256."""


StateT = TypeVar("StateT")


@mypyc_attr(allow_interpreted_subclasses=True)  # a base for plugins' checks
class Check(Generic[StateT]):
    """A compiled check for one requirement, keeping its per-feed state in a ``StateT``.

    Without overrides the state is a :class:`Tally` and the measure passed / checked (so
    a check that only overrides :meth:`visit` counts records, as :class:`RecordCheck`).
    """

    applies_to: frozenset[str] | None = None
    """Resource types (or ``table:NAME``) visited; None means every record."""
    wants_unparseable: ClassVar[bool] = False
    """True for the check that accounts for records that could not be parsed."""

    def __init__(self, requirement: Requirement) -> None:
        self.requirement = requirement
        if requirement.applies_to:
            self.applies_to = frozenset(requirement.applies_to)

    def start(self, context: RunContext) -> StateT:
        """A fresh per-feed state; ``context`` tells what is known before any record."""
        return cast(StateT, Tally())

    def visit(self, state: StateT, record: Record, emit: Emit) -> None:
        raise NotImplementedError

    def merge(self, state: StateT, other: StateT) -> StateT:
        """``state`` followed by ``other`` (a later part of the same feed), as one state."""
        mine, theirs = cast(Tally, state), cast(Tally, other)
        mine.passed += theirs.passed
        mine.checked += theirs.checked
        return state

    def finish(self, state: StateT, context: FinishContext, emit: Emit) -> Measure:
        tally = cast(Tally, state)
        return Measure(tally.passed, tally.checked)


@mypyc_attr(allow_interpreted_subclasses=True)  # a base for plugins' checks
class RecordCheck(Check[Tally]):
    """A check that judges each resource on its own.

    Subclasses implement :meth:`problems`; a resource passes when it has none that
    count against it: a problem at the requirement's own level counts, and so does one
    explicitly raised to error; one explicitly lowered (a FHIR warning under a MUST, or
    information) is reported but does not fail the resource.
    """

    def problems(self, resource: dict[str, Any]) -> Iterable[Problem]:
        raise NotImplementedError

    def start(self, context: RunContext) -> Tally:
        return Tally()

    def visit(self, state: Tally, record: Record, emit: Emit) -> None:
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
    ) -> Check[Any]: ...


@dataclass(slots=True)
class CompileEnv:
    """What check factories may use while compiling: the standard and shared services."""

    standard: Standard
    services: dict[str, Any] = field(default_factory=dict)
    """Lazily built shared objects (e.g. the FHIR validator), keyed by name."""

    def service(self, name: str, build: Callable[[], Any]) -> Any:
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

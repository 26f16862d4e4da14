"""Timeliness requirements (MDSS-TIME-*): lastUpdated, no future dates, prompt and regular feeds.

Dates compare at the precision they are given: ``2026-12`` is after an extraction on
2026-11-30 but not after one on 2026-12-01. Date-times in UTC (``...Z``) compare as text;
other offsets are converted to UTC first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from mypy_extensions import mypyc_attr

from conformance.checks.base import (
    Check,
    CompileEnv,
    Emit,
    FinishContext,
    Measure,
    RecordCheck,
    RunContext,
    Tally,
    param,
)
from conformance.checks.references import expression, scan
from conformance.feed import FeedInfo
from conformance.findings import Location, Problem
from conformance.readers.base import Record
from conformance.standards.model import Requirement


def parse_instant(text: str) -> datetime | None:
    """An aware UTC datetime for a FHIR date, dateTime or instant (dates: midnight UTC)."""
    try:
        if len(text) == 4:
            value = datetime.fromisoformat(text + "-01-01")
        elif len(text) == 7:
            value = datetime.fromisoformat(text + "-01")
        else:
            value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_after(value: str, bound: str, bound_moment: datetime) -> bool:
    """True when ``value`` is later than ``bound`` (``YYYY-MM-DDThh:mm:ssZ``) at its precision.

    Values that are not dates are never "after": their format is MDSS-STR-02's concern.
    """
    size = len(value)
    if size <= 10:
        return value > bound[:size]
    if value[-1] == "Z" and size >= 20:
        return value[:19] > bound[:19]
    moment = parse_instant(value)
    return moment is not None and moment > bound_moment


def out_of_order(start: str, end: str) -> bool:
    """True when the period's end is before its start, compared at the coarser precision."""
    if len(start) <= 10 or len(end) <= 10:
        size = min(len(start), len(end), 10)
        return start[:size] > end[:size]
    if start[-1] == "Z" and end[-1] == "Z" and len(start) >= 20 and len(end) >= 20:
        return start[:19] > end[:19]
    a, b = parse_instant(start), parse_instant(end)
    return a is not None and b is not None and a > b


# --------------------------------------------------------------------------- TIME-01


class LastUpdated(RecordCheck):
    """MDSS-TIME-01: every resource says when it last changed (``meta.lastUpdated``)."""

    def problems(self, resource: dict[str, Any]) -> Iterable[Problem]:
        meta = resource.get("meta")
        if type(meta) is dict and type(meta.get("lastUpdated")) is str and meta["lastUpdated"]:
            return
        where = f"{resource['resourceType']}.meta.lastUpdated"
        yield Problem("last-updated-missing", f"{where} is missing", where)


# --------------------------------------------------------------------------- TIME-02

DATE_ELEMENTS: Final = (
    "effectiveDateTime",
    "effectiveInstant",
    "issued",
    "authoredOn",
    "authored",
    "recordedDate",
    "recorded",
    "onsetDateTime",
    "abatementDateTime",
    "performedDateTime",
    "occurrenceDateTime",
    "dateAsserted",
)
PERIOD_ELEMENTS: Final = (
    "period",
    "effectivePeriod",
    "onsetPeriod",
    "abatementPeriod",
    "performedPeriod",
    "occurrencePeriod",
)


@mypyc_attr(native_class=False)  # a subclass of Tally (not native): see hatch_build.py
@dataclass(slots=True)
class _Dated(Tally):
    bound: str | None = None
    moment: datetime | None = None


class DatesPlausible(Check[_Dated]):
    """MDSS-TIME-02: no clinical date after the feed's extraction; every Period in order.

    Without a manifest ``extracted`` time only the period-order rule applies.
    """

    def __init__(
        self, requirement: Requirement, dates: tuple[str, ...], periods: tuple[str, ...]
    ) -> None:
        super().__init__(requirement)
        self.dates = dates
        self.periods = periods

    def start(self, context: RunContext) -> _Dated:
        state = _Dated()
        extracted = context.feed.extracted
        moment = parse_instant(extracted) if extracted else None
        if moment is not None:
            state.bound = utc_text(moment)
            state.moment = moment
        return state

    def visit(self, state: _Dated, record: Record, emit: Emit) -> None:
        resource = record.resource
        assert resource is not None
        rtype = record.resource_type
        state.checked += 1
        ok = True
        bound: str | None = state.bound
        if bound is not None:
            moment = state.moment
            assert moment is not None
            late: list[tuple[str, str]] = []
            meta = resource.get("meta")
            if type(meta) is dict:
                value = meta.get("lastUpdated")
                if type(value) is str and is_after(value, bound, moment):
                    late.append((f"{rtype}.meta.lastUpdated", value))
            for name in self.dates:
                value = resource.get(name)
                if type(value) is str and is_after(value, bound, moment):
                    late.append((f"{rtype}.{name}", value))
            for name in self.periods:
                period = resource.get(name)
                if type(period) is not dict:
                    continue
                for side in ("start", "end"):
                    when = period.get(side)
                    if type(when) is str and is_after(when, bound, moment):
                        late.append((f"{rtype}.{name}.{side}", when))
            for where, value in late:
                ok = False
                emit(
                    Problem(
                        "date-after-extraction",
                        "the date {value} is after the feed was extracted",
                        where,
                        value,
                        "date",
                    ),
                    record.location.at(where),
                    rtype,
                    record.resource_id,
                )
        for node in scan(resource).periods:
            start = node[3].get("start")
            end = node[3].get("end")
            if type(start) is str and type(end) is str and out_of_order(start, end):
                ok = False
                path = expression(node)
                emit(
                    Problem(
                        "period-end-before-start",
                        f"{path} ends before it starts",
                        path,
                    ),
                    record.location.at(path),
                    rtype,
                    record.resource_id,
                )
        if ok:
            state.passed += 1


# --------------------------------------------------------------------------- TIME-03


def period_end_moment(feed: FeedInfo) -> datetime | None:
    """The end of the reporting period: midnight after its last day, or its end instant."""
    end = feed.period_end
    if not end:
        return None
    moment = parse_instant(end)
    if moment is None:
        return None
    if len(end) <= 10:
        moment += timedelta(days=1)
    return moment


def manifest_location(feed: FeedInfo, key: str) -> Location:
    """The manifest line that holds ``feed.<key>``."""
    return Location(feed.manifest, feed.manifest_line("feed", key), expression=f"feed.{key}")


class ExtractionLag(Check[Tally]):
    """MDSS-TIME-03: the feed was extracted within ``max_hours`` of its period's end."""

    def __init__(self, requirement: Requirement, max_hours: float) -> None:
        super().__init__(requirement)
        self.max_hours = max_hours
        self.applies_to = frozenset()  # a measure of the manifest: no record is visited

    def visit(self, state: Tally, record: Record, emit: Emit) -> None:
        return

    def finish(self, state: Tally, context: FinishContext, emit: Emit) -> Measure:
        feed = context.feed
        if feed.manifest is None:
            return Measure(status="not-applicable", note="no manifest: extraction time unknown")
        extracted = parse_instant(feed.extracted) if feed.extracted else None
        end = period_end_moment(feed)
        if extracted is None or end is None:
            return Measure(
                status="not-applicable",
                note="the manifest gives no valid extracted time or period end",
            )
        hours = (extracted - end).total_seconds() / 3600
        if hours < 0:
            emit(
                Problem(
                    "extracted-before-period-end",
                    "the feed was extracted before its reporting period ended",
                    "feed.extracted",
                ),
                manifest_location(feed, "extracted"),
            )
            return Measure(0, 1, note=f"extracted {-hours:.1f} h before the end of the period")
        note = f"extracted {hours:.1f} h after the end of the period (limit {self.max_hours:g} h)"
        if hours > self.max_hours:
            emit(
                Problem(
                    "extraction-late",
                    f"the feed was extracted {hours:.1f} h after the end of its period "
                    f"(more than {self.max_hours:g} h)",
                    "feed.extracted",
                ),
                manifest_location(feed, "extracted"),
            )
            return Measure(0, 1, note=note)
        return Measure(1, 1, note=note)


# --------------------------------------------------------------------------- TIME-04


def _month(value: Any) -> tuple[int, int] | None:
    """(year, month) of a period given as text, a mapping, a pair, or an object."""
    if isinstance(value, Mapping):
        value = value.get("start") or value.get("period_start") or value.get("period")
    elif isinstance(value, (tuple, list)):
        value = value[0] if value else None
    elif value is not None and not isinstance(value, str):
        value = getattr(value, "start", None) or getattr(value, "period_start", None)
    if isinstance(value, datetime):
        return value.year, value.month
    if hasattr(value, "year") and hasattr(value, "month"):
        return int(value.year), int(value.month)
    if isinstance(value, str) and len(value) >= 7 and value[4] == "-":
        year, month = value[:4], value[5:7]
        if year.isdigit() and month.isdigit() and 1 <= int(month) <= 12:
            return int(year), int(month)
    return None


class SubmissionHistory(Check[Tally]):
    """MDSS-TIME-04: every monthly submission of the last ``periods`` periods was received.

    Needs the run's history store (``context.history``) with
    ``submissions(ics, sender, standard_id) -> list of periods``; without one, or until
    the history reaches back to the first of those periods (a sender's first recorded
    feeds), the requirement is not applicable. The feed being validated counts as received.
    """

    def __init__(self, requirement: Requirement, periods: int) -> None:
        super().__init__(requirement)
        self.periods = periods
        self.applies_to = frozenset()

    def visit(self, state: Tally, record: Record, emit: Emit) -> None:
        return

    def finish(self, state: Tally, context: FinishContext, emit: Emit) -> Measure:
        history = context.history
        feed = context.feed
        if history is None or not hasattr(history, "submissions"):
            return Measure(status="not-applicable", note="no submission history for this run")
        current = _month(feed.period_start)
        if current is None or not feed.ics or not feed.sender:
            return Measure(
                status="not-applicable",
                note="the manifest gives no ICS, sender or period: history cannot be matched",
            )
        try:
            received_raw = history.submissions(feed.ics, feed.sender, context.standard.id)
            received = {m for m in (_month(p) for p in received_raw or ()) if m is not None}
        except (TypeError, ValueError, AttributeError, OSError) as exc:
            return Measure(
                status="not-applicable",
                note=f"the submission history could not be read ({type(exc).__name__})",
            )
        received.add(current)
        year, month = current
        expected: list[tuple[int, int]] = []
        for back in range(self.periods):
            index = year * 12 + (month - 1) - back
            expected.append((index // 12, index % 12 + 1))
        missing = [f"{y:04d}-{m:02d}" for y, m in reversed(expected) if (y, m) not in received]
        got = self.periods - len(missing)
        first = min(received)
        if first > expected[-1]:
            # The history starts inside the window: it cannot show the periods before it.
            held = sum(1 for period in expected if period >= first)
            return Measure(
                status="not-applicable",
                note=f"the history starts at {first[0]:04d}-{first[1]:02d}: it holds {held} "
                f"of the {self.periods} periods this needs",
            )
        note = f"{got} of the last {self.periods} monthly submissions received"
        if missing:
            note += "; missing " + ", ".join(missing)
            emit(
                Problem(
                    "submissions-missing",
                    f"{len(missing)} of the last {self.periods} monthly submissions were not "
                    "received",
                ),
                Location(feed.manifest, expression="feed.period"),
            )
        return Measure(got, self.periods, note=note)


# ------------------------------------------------------------------------- factories


def last_updated(req: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
    return LastUpdated(req)


def dates_plausible(req: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
    dates = tuple(param(params, "date_elements", list, list(DATE_ELEMENTS)))
    periods = tuple(param(params, "period_elements", list, list(PERIOD_ELEMENTS)))
    return DatesPlausible(req, dates, periods)


def extraction_lag(req: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
    return ExtractionLag(req, float(param(params, "max_hours", (int, float), 24)))


def submission_history(req: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
    return SubmissionHistory(req, int(param(params, "periods", int, 5)))


CHECK_TYPES: dict[str, Any] = {
    "last-updated": last_updated,
    "dates-plausible": dates_plausible,
    "extraction-lag": extraction_lag,
    "submission-history": submission_history,
}

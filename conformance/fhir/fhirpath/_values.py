"""FHIRPath system values that JSON has no native form for: dates/times and quantities.

Dates, date-times and times keep their precision: FHIRPath compares them component by
component (year, month, day, hour, minute, second-with-fraction) and a comparison that
runs out of shared precision before the values differ is *unknown* (empty result).
"""

from __future__ import annotations

import datetime as _dt
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Final

from conformance.fhir import ucum

Number = int | float | Decimal

DATE_KIND: Final = "date"
DATETIME_KIND: Final = "dateTime"
TIME_KIND: Final = "time"

_DATETIME_RE = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(\.\d+)?)?)?"
    r"(Z|[+-]\d{2}:\d{2})?)?)?)?"
)
_TIME_RE = re.compile(r"(\d{2})(?::(\d{2})(?::(\d{2})(\.\d+)?)?)?")


class Temporal:
    """A FHIRPath Date, DateTime or Time with its precision.

    ``parts`` holds the components present (year, month, day, hour, minute, seconds for
    dates; hour, minute, seconds for times), seconds as a Decimal including the fraction,
    already shifted to UTC when a time-zone offset is given and the hour is present.
    """

    __slots__ = ("kind", "parts", "text", "tz")

    def __init__(self, kind: str, parts: tuple[int | Decimal, ...], tz: int | None, text: str):
        self.kind = kind
        self.parts = parts
        self.tz = tz
        self.text = text

    @property
    def precision(self) -> int:
        return len(self.parts)

    def __repr__(self) -> str:
        return f"@{'T' if self.kind == TIME_KIND else ''}{self.text}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Temporal) and temporal_equal(self, other) is True

    def __hash__(self) -> int:
        return hash((self.kind == TIME_KIND, self.parts))


@lru_cache(maxsize=4096)
def parse_datetime(text: str, kind: str = DATETIME_KIND) -> Temporal | None:
    """Parse an ISO date or date-time (FHIR ``date``/``dateTime``/``instant`` form)."""
    m = _DATETIME_RE.fullmatch(text)
    if m is None:
        return None
    year, month, day, hour, minute, sec, frac, tzs = m.groups()
    try:
        parts: list[int | Decimal] = [int(year)]
        if month is not None:
            parts.append(int(month))
        if day is not None:
            parts.append(int(day))
        if hour is not None:
            parts.append(int(hour))
        if minute is not None:
            parts.append(int(minute))
        if sec is not None:
            parts.append(Decimal(sec + (frac or "")))
    except (ValueError, InvalidOperation):  # pragma: no cover - regex guarantees digits
        return None
    tz: int | None = None
    if tzs is not None:
        tz = (
            0 if tzs == "Z" else (1 if tzs[0] == "+" else -1) * (int(tzs[1:3]) * 60 + int(tzs[4:6]))
        )
    if tz and len(parts) >= 4:
        parts = _shift_to_utc(parts, tz)
    if kind != DATE_KIND and hour is None:
        kind = DATE_KIND
    return Temporal(kind, tuple(parts), tz, text)


def _shift_to_utc(parts: list[int | Decimal], tz: int) -> list[int | Decimal]:
    y, mo, d, h = (int(p) for p in parts[:4])
    mi = int(parts[4]) if len(parts) > 4 else 0
    try:
        moment = _dt.datetime(y, mo, d, h, mi) - _dt.timedelta(minutes=tz)
    except ValueError:
        return parts
    shifted: list[int | Decimal] = [moment.year, moment.month, moment.day, moment.hour]
    if len(parts) > 4:
        shifted.append(moment.minute)
    shifted.extend(parts[5:])
    return shifted


@lru_cache(maxsize=1024)
def parse_time(text: str) -> Temporal | None:
    m = _TIME_RE.fullmatch(text)
    if m is None:
        return None
    hour, minute, sec, frac = m.groups()
    parts: list[int | Decimal] = [int(hour)]
    if minute is not None:
        parts.append(int(minute))
    if sec is not None:
        parts.append(Decimal(sec + (frac or "")))
    return Temporal(TIME_KIND, tuple(parts), None, text)


def temporal_compare(a: Temporal, b: Temporal) -> int | None:
    """-1/0/1, or None when the shared precision runs out before the values differ."""
    if (a.kind == TIME_KIND) != (b.kind == TIME_KIND):
        return None
    pa, pb = a.parts, b.parts
    for x, y in zip(pa, pb, strict=False):
        if x != y:
            return -1 if x < y else 1
    if len(pa) == len(pb):
        return 0
    # Seconds and milliseconds are one precision; anything else coarser is unknown.
    return None


def temporal_equal(a: Temporal, b: Temporal) -> bool | None:
    c = temporal_compare(a, b)
    if c is None:
        if (a.kind == TIME_KIND) != (b.kind == TIME_KIND):
            return False
        shared = min(len(a.parts), len(b.parts))
        if a.parts[:shared] != b.parts[:shared]:  # pragma: no cover - compare handles it
            return False
        return None
    return c == 0


def temporal_equivalent(a: Temporal, b: Temporal) -> bool:
    return len(a.parts) == len(b.parts) and temporal_compare(a, b) == 0


def now_datetime() -> Temporal:
    moment = _dt.datetime.now(_dt.UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"
    result = parse_datetime(text)
    assert result is not None
    return result


def today_date() -> Temporal:
    result = parse_datetime(_dt.date.today().isoformat(), DATE_KIND)
    assert result is not None
    return result


def time_of_day() -> Temporal:
    moment = _dt.datetime.now()
    result = parse_time(moment.strftime("%H:%M:%S"))
    assert result is not None
    return result


# --- quantities ---------------------------------------------------------------------

CALENDAR_UNITS: Final = {
    "year": "year", "years": "year", "month": "month", "months": "month",
    "week": "week", "weeks": "week", "day": "day", "days": "day",
    "hour": "hour", "hours": "hour", "minute": "minute", "minutes": "minute",
    "second": "second", "seconds": "second", "millisecond": "millisecond",
    "milliseconds": "millisecond",
}  # fmt: skip

#: calendar durations that are the UCUM units of the same name (FHIRPath §5.6: a week,
#: day, hour... is the definite duration; a year or month is not 'a' or 'mo')
_DEFINITE: Final = {
    "week": "wk", "day": "d", "hour": "h", "minute": "min", "second": "s",
    "millisecond": "ms",
}  # fmt: skip


class Quantity:
    """A FHIRPath Quantity: a number and a unit (UCUM code or calendar duration word)."""

    __slots__ = ("unit", "value")

    def __init__(self, value: Number, unit: str):
        self.value = value
        self.unit = CALENDAR_UNITS.get(unit, unit)

    def __repr__(self) -> str:
        return f"{self.value} '{self.unit}'"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Quantity) and quantity_compare(self, other) == 0

    def __hash__(self) -> int:
        return hash((self.value, self.unit))

    def to_string(self) -> str:
        return f"{format_number(self.value)} '{self.unit}'"


def to_decimal(value: Number) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def quantity_compare(a: Quantity, b: Quantity) -> int | None:
    """-1/0/1, or None when the units cannot be compared (UCUM conversion, see
    :mod:`conformance.fhir.ucum`)."""
    if a.unit == b.unit or (a.unit in ("1", "") and b.unit in ("1", "")):
        x, y = a.value, b.value
        if x == y:
            return 0
        return -1 if x < y else 1
    ua, ub = _DEFINITE.get(a.unit, a.unit), _DEFINITE.get(b.unit, b.unit)
    return ucum.compare((a.value, ua), (b.value, ub))


def format_number(value: Number) -> str:
    if isinstance(value, bool):  # pragma: no cover - callers exclude booleans
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        if "e" in text or "E" in text:
            text = format(Decimal(text), "f")
        return text
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)

"""FHIRPath §6.6 Math (``+ - * / div mod``, unary ``-``/``+``, string ``&``) and §6.7
Date/Time Arithmetic (a date plus or minus a calendar quantity)."""

from __future__ import annotations

import calendar
import datetime as dt
import math
from decimal import Decimal, DivisionByZero, InvalidOperation
from typing import Any, Final

from .._compiled import BinaryBuilder, C
from .._runtime import Coll, Ctx, cmp_value, problem, single_number, single_string, type_label
from .._values import TIME_KIND, Quantity, Temporal, parse_datetime, to_decimal


def _num_pair(a: Any, b: Any) -> tuple[Any, Any]:
    if type(a) is Decimal or type(b) is Decimal:
        return to_decimal(a), to_decimal(b)
    return a, b


def _arithmetic(op: str, left: C, right: C) -> C:
    lf, rf = left.fn, right.fn

    def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
        a = lf(ctx, focus, this)
        b = rf(ctx, focus, this)
        if not a or not b:
            return []
        if len(a) > 1 or len(b) > 1:
            raise problem(f"'{op}' needs single items on both sides")
        x = cmp_value(a[0])
        y = cmp_value(b[0])
        if op == "+" and type(x) is str and type(y) is str:
            return [x + y]
        if type(x) is Temporal and type(y) is Quantity and op in ("+", "-"):
            return _date_add(x, y, op == "-")
        if (
            type(x) is bool
            or type(y) is bool
            or not (type(x) in (int, float, Decimal) and type(y) in (int, float, Decimal))
        ):
            raise problem(f"cannot apply '{op}' to {type_label(a[0])} and {type_label(b[0])}")
        x, y = _num_pair(x, y)
        try:
            return _apply(op, x, y)
        except (InvalidOperation, DivisionByZero, OverflowError):
            return []

    return C(fn, left.deps | right.deps)


def _apply(op: str, x: Any, y: Any) -> Coll:
    if op == "+":
        return [x + y]
    if op == "-":
        return [x - y]
    if op == "*":
        return [x * y]
    if y == 0:  # / div mod by zero: empty
        return []
    if op == "/":
        return [to_decimal(x) / to_decimal(y)]
    if op == "div":
        return [int(to_decimal(x) / to_decimal(y))]
    r = math.fmod(x, y) if type(x) is float or type(y) is float else x % y
    if type(x) is int and type(y) is int and (x < 0) != (y < 0) and r:
        r = int(math.fmod(x, y))
    return [r]


def _concatenate(op: str, left: C, right: C) -> C:
    lf, rf = left.fn, right.fn

    def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
        a = single_string(lf(ctx, focus, this), "&")
        b = single_string(rf(ctx, focus, this), "&")
        return [(a or "") + (b or "")]

    return C(fn, left.deps | right.deps)


def unary(op: str, operand: C) -> C:
    """Unary ``-`` or ``+`` on a number or quantity."""
    ofn = operand.fn
    negate = op == "-"

    def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
        v = single_number(ofn(ctx, focus, this), "unary " + op)
        if v is None:
            return []
        if type(v) is Quantity:
            return [Quantity(-v.value, v.unit) if negate else v]
        return [-v if negate else v]

    return C(fn, operand.deps)


_SECONDS_PER_UNIT: Final[dict[str, int]] = {
    "week": 7 * 86400, "wk": 7 * 86400, "day": 86400, "d": 86400, "hour": 3600, "h": 3600,
    "minute": 60, "min": 60, "second": 1, "s": 1,
}  # fmt: skip


def _date_add(d: Temporal, q: Quantity, subtract: bool) -> Coll:
    unit = q.unit
    amount = q.value
    if type(amount) is not int:
        if amount != int(amount):
            raise problem("date arithmetic needs a whole number of units")
        amount = int(amount)
    if subtract:
        amount = -amount
    parts = [int(p) for p in d.parts]
    if d.kind == TIME_KIND:
        raise problem("time arithmetic is not supported")
    y = parts[0]
    mo = parts[1] if len(parts) > 1 else 1
    day = parts[2] if len(parts) > 2 else 1
    if unit in ("year", "a"):
        y += amount
    elif unit in ("month", "mo"):
        total = y * 12 + (mo - 1) + amount
        y, mo = divmod(total, 12)
        mo += 1
    else:
        factor = _SECONDS_PER_UNIT.get(unit)
        if factor is None:
            raise problem("unsupported unit in date arithmetic")
        hh = parts[3] if len(parts) > 3 else 0
        mi = parts[4] if len(parts) > 4 else 0
        ss = parts[5] if len(parts) > 5 else 0
        moment = dt.datetime(y, mo, day, hh, mi, ss) + dt.timedelta(seconds=amount * factor)
        y, mo, day = moment.year, moment.month, moment.day
        parts[3:] = [moment.hour, moment.minute, moment.second][: len(parts) - 3]
    day = min(day, calendar.monthrange(y, mo)[1])
    fields = [f"{y:04d}", f"{mo:02d}", f"{day:02d}"][: min(len(parts), 3)]
    text = "-".join(fields)
    if len(parts) > 3:
        text += "T" + ":".join(f"{p:02d}" for p in parts[3:6])
        if d.tz is not None:
            text += "Z"
    result = parse_datetime(text)
    return [] if result is None else [result]


OPERATORS: Final[dict[str, BinaryBuilder]] = {
    **{op: _arithmetic for op in ("+", "-", "*", "/", "div", "mod")},
    "&": _concatenate,
}

"""FHIRPath Math functions (2.0 §5.7): abs, ceiling, floor, truncate, round, sqrt, exp,
ln, log, power. Undefined results (``sqrt(-1)``, overflow) are empty."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import InvalidOperation
from typing import Any, Final

from .._compiled import C, CallSite, FunctionSpec
from .._runtime import Coll, Ctx, problem, single_number
from .._values import Quantity, to_decimal


def _log(v: Any, p: Any) -> Any:
    if p is None or v <= 0 or p <= 0 or p == 1:
        return None
    return to_decimal(v).ln() / to_decimal(p).ln()


def _power(v: Any, p: Any) -> Any:
    if p is None:
        return None
    result = v**p
    return None if isinstance(result, complex) else result


# name -> (value, argument or None) -> result, None for empty
_OPERATIONS: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "abs": lambda v, p: abs(v),
    "ceiling": lambda v, p: math.ceil(v),
    "floor": lambda v, p: math.floor(v),
    "truncate": lambda v, p: math.trunc(v),
    "round": lambda v, p: round(to_decimal(v), int(p) if p is not None else 0),
    "sqrt": lambda v, p: None if v < 0 else to_decimal(v).sqrt(),
    "exp": lambda v, p: to_decimal(v).exp(),
    "ln": lambda v, p: None if v <= 0 else to_decimal(v).ln(),
    "log": _log,
    "power": _power,
}


def _math(site: CallSite) -> C:
    name = site.name
    op = _OPERATIONS[name]
    arg = site.args[0].fn if site.args else None

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        v = single_number(inp, name + "()")
        if v is None:
            return []
        if type(v) is Quantity:
            if name == "abs":
                return [Quantity(-v.value if v.value < 0 else v.value, v.unit)]
            raise problem(f"{name}() needs a number")
        p = single_number(arg(ctx, inp, this), name + "()") if arg is not None else None
        try:
            result = op(v, p)
        except (InvalidOperation, OverflowError, ZeroDivisionError, ValueError):
            return []
        return [] if result is None else [result]

    return site.chain(impl)


FUNCTIONS: Final[dict[str, FunctionSpec]] = {
    **{name: FunctionSpec(_math) for name in ("abs", "ceiling", "floor", "truncate")},
    **{name: FunctionSpec(_math) for name in ("sqrt", "exp", "ln")},
    "round": FunctionSpec(_math, 0, 1),
    "log": FunctionSpec(_math, 1),
    "power": FunctionSpec(_math, 1),
}

"""FHIRPath §5.5 Conversion: iif, toBoolean/toInteger/toDecimal/toString/toDate/
toDateTime/toTime/toQuantity and their convertsTo* tests."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

from .._compiled import C, CallSite, FunctionSpec
from .._runtime import (
    Coll,
    Ctx,
    cmp_value,
    prim,
    problem,
    to_decimal_value,
    to_integer,
    to_string,
)
from .._values import TIME_KIND, Quantity, Temporal, parse_datetime, parse_time


def _iif(site: CallSite) -> C:
    crit = site.args[0].test
    yes = site.args[1].fn
    no = site.args[2].fn if len(site.args) > 2 else None

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        if len(inp) > 1:
            raise problem("iif() needs at most one input item")
        if crit(ctx, inp, this) is True:
            return yes(ctx, inp, this)
        return no(ctx, inp, this) if no is not None else []

    return site.chain(impl)


def single_item(inp: Coll, fname: str) -> Any:
    """The one input item (None for empty); an error for several."""
    if len(inp) > 1:
        raise problem(f"{fname}() needs a single item but got {len(inp)}")
    return inp[0] if inp else None


_BOOLEAN_WORDS: Final[dict[str, bool]] = {
    "true": True, "t": True, "yes": True, "y": True, "1": True, "1.0": True,
    "false": False, "f": False, "no": False, "n": False, "0": False, "0.0": False,
}  # fmt: skip


def _to_boolean(it: Any) -> Any:
    v = prim(it)
    if type(v) is bool:
        return v
    if type(v) is str:
        return _BOOLEAN_WORDS.get(v.lower())
    if type(v) is int:
        return {1: True, 0: False}.get(v)
    return None


def _to_temporal(it: Any) -> Any:
    v = cmp_value(it)
    if type(v) is Temporal:
        return v
    return parse_datetime(v) if type(v) is str else None


def _to_time(it: Any) -> Any:
    v = cmp_value(it)
    if type(v) is Temporal and v.kind == TIME_KIND:
        return v
    return parse_time(v) if type(v) is str else None


def _to_quantity(it: Any) -> Any:
    v = cmp_value(it)
    if type(v) is Quantity:
        return v
    if type(v) in (int, float, Decimal) and type(v) is not bool:
        return Quantity(v, "1")
    return None


_CONVERTERS: Final[dict[str, Callable[[Any], Any]]] = {
    "Integer": to_integer,
    "Decimal": to_decimal_value,
    "String": to_string,
    "Boolean": _to_boolean,
    "Date": _to_temporal,
    "DateTime": _to_temporal,
    "Time": _to_time,
    "Quantity": _to_quantity,
}


def _convert(site: CallSite) -> C:
    name = site.name
    converts = name.startswith("convertsTo")
    convert = _CONVERTERS[name[10:] if converts else name[2:]]

    if converts:

        def test(ctx: Ctx, inp: Coll, this: Coll) -> bool | None:
            it = single_item(inp, name)
            return None if it is None else convert(it) is not None

        return site.chain_test(test)

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        it = single_item(inp, name)
        if it is None:
            return []
        value = convert(it)
        return [] if value is None else [value]

    return site.chain(impl)


FUNCTIONS: Final[dict[str, FunctionSpec]] = {
    "iif": FunctionSpec(_iif, 2, 3),
    **{
        prefix + target: FunctionSpec(_convert, 0, 1 if target == "Quantity" else 0)
        for prefix in ("to", "convertsTo")
        for target in _CONVERTERS
    },
}

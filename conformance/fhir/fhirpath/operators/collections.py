"""FHIRPath §6.4 Collections: ``|`` (union), ``in`` and ``contains`` (membership)."""

from __future__ import annotations

from typing import Final

from .._compiled import BinaryBuilder, C, boolean
from .._runtime import Coll, Ctx, dedupe, equal, problem


def _union(op: str, left: C, right: C) -> C:
    lf, rf = left.fn, right.fn

    def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
        return dedupe(lf(ctx, focus, this) + rf(ctx, focus, this))

    return C(fn, left.deps | right.deps)


def _membership(op: str, left: C, right: C) -> C:
    contains = op == "contains"
    lf, rf = left.fn, right.fn

    def test(ctx: Ctx, focus: Coll, this: Coll) -> bool | None:
        a = lf(ctx, focus, this)
        b = rf(ctx, focus, this)
        item_side, coll = (b, a) if contains else (a, b)
        if not item_side:
            return None
        if len(item_side) > 1:
            raise problem(f"'{op}' needs a single item")
        x = item_side[0]
        return any(equal(x, y) for y in coll)

    return boolean(test, left.deps | right.deps)


OPERATORS: Final[dict[str, BinaryBuilder]] = {
    "|": _union,
    "in": _membership,
    "contains": _membership,
}

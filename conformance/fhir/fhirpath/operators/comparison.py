"""FHIRPath §6.2 Comparison: ``<``, ``>``, ``<=``, ``>=`` (empty when unknown, such as
dates of different precision or quantities in incomparable units)."""

from __future__ import annotations

from typing import Final

from .._compiled import BinaryBuilder, C, boolean
from .._runtime import Coll, Ctx, compare, problem

_ACCEPT: Final[dict[str, tuple[int, ...]]] = {
    "<": (-1,),
    ">": (1,),
    "<=": (-1, 0),
    ">=": (0, 1),
}


def _comparison(op: str, left: C, right: C) -> C:
    accept = _ACCEPT[op]
    lf, rf = left.fn, right.fn

    def test(ctx: Ctx, focus: Coll, this: Coll) -> bool | None:
        a = lf(ctx, focus, this)
        if not a:
            return None
        b = rf(ctx, focus, this)
        if not b:
            return None
        if len(a) > 1 or len(b) > 1:
            raise problem(f"'{op}' needs single items on both sides")
        c = compare(a[0], b[0])
        return None if c is None else c in accept

    return boolean(test, left.deps | right.deps)


OPERATORS: Final[dict[str, BinaryBuilder]] = {op: _comparison for op in _ACCEPT}

"""FHIRPath §6.1 Equality: ``=``, ``!=`` (empty when unknown) and ``~``, ``!~``."""

from __future__ import annotations

from typing import Any, Final

from .._compiled import BinaryBuilder, C, ObjectTest, Test, boolean
from .._runtime import Coll, Ctx, equal, equivalent

_DATE_LIKE: Final = frozenset({"date", "dateTime", "instant", "time"})


def _equals_literal(a: Coll, lit: str, negate: bool) -> bool | None:
    """``a = lit`` (``!=`` when ``negate``) for a string literal."""
    if len(a) == 1:
        it = a[0]
        if type(it) is tuple and type(it[0]) is str and it[1] not in _DATE_LIKE:
            return (it[0] == lit) is not negate
        r = equal(it, lit)
        return None if r is None else r is not negate
    if not a:
        return None
    return negate


def _equality(op: str, left: C, right: C) -> C:
    negate = op == "!="
    lf, rf = left.fn, right.fn
    rconst = right.const
    test: Test
    obj_test: ObjectTest | None = None
    if rconst is not None and len(rconst) == 1 and type(rconst[0]) is str:
        lit: str = rconst[0]

        def test(ctx: Ctx, focus: Coll, this: Coll) -> bool | None:
            return _equals_literal(lf(ctx, focus, this), lit, negate)

        if left.obj is not None:
            lobj = left.obj

            def obj_test(v: dict[str, Any]) -> bool | None:
                return _equals_literal(lobj(v), lit, negate)

    elif left.boolean and right.boolean:
        # both sides are [] / [true] / [false]: compare their tests, no lists
        a_test, b_test = left.test, right.test

        def test(ctx: Ctx, focus: Coll, this: Coll) -> bool | None:
            a = a_test(ctx, focus, this)
            if a is None:
                return None
            b = b_test(ctx, focus, this)
            if b is None:
                return None
            return (a is b) is not negate

        if left.obj_test is not None and right.obj_test is not None:
            a_obj, b_obj = left.obj_test, right.obj_test

            def obj_test(v: dict[str, Any]) -> bool | None:
                a = a_obj(v)
                if a is None:
                    return None
                b = b_obj(v)
                if b is None:
                    return None
                return (a is b) is not negate

    else:

        def test(ctx: Ctx, focus: Coll, this: Coll) -> bool | None:
            a = lf(ctx, focus, this)
            if not a:
                return None
            b = rf(ctx, focus, this)
            if not b:
                return None
            if len(a) != len(b):
                return negate
            result = True
            for x, y in zip(a, b, strict=True):
                r = equal(x, y)
                if r is None:
                    return None
                if not r:
                    result = False
            return result is not negate

    return boolean(test, left.deps | right.deps, obj_test=obj_test)


def _equivalence(op: str, left: C, right: C) -> C:
    negate = op == "!~"
    lf, rf = left.fn, right.fn

    def test(ctx: Ctx, focus: Coll, this: Coll) -> bool | None:
        a = lf(ctx, focus, this)
        b = rf(ctx, focus, this)
        if len(a) != len(b):
            return negate
        rest = list(b)
        for x in a:
            for j, y in enumerate(rest):
                if equivalent(x, y):
                    del rest[j]
                    break
            else:
                return negate
        return not negate

    return boolean(test, left.deps | right.deps)


OPERATORS: Final[dict[str, BinaryBuilder]] = {
    "=": _equality,
    "!=": _equality,
    "~": _equivalence,
    "!~": _equivalence,
}

"""FHIRPath §6.5 Boolean logic: and, or, xor, implies, not(), with three-valued logic.

Operands are used through their test forms (no ``[True]`` lists in between); ``and`` and
``or`` short-circuit left to right as the specification allows, and a chain such as
``a or b or c`` is one loop over the operands' tests (the same calls in the same order as
the nested form, so results and errors are identical). A constant left operand folds.
"""

from __future__ import annotations

from typing import Final

from .._compiled import BinaryBuilder, C, CallSite, FunctionSpec, Test, boolean, constant
from .._runtime import Coll, Ctx, to_bool3


def _tests(op: str, c: C) -> tuple[Test, ...]:
    j = c.junction
    if j is not None and j[0] == op:
        return j[1]
    return (c.test,)


def _or(op: str, left: C, right: C) -> C:
    deps = left.deps | right.deps
    if left.const is not None and left.boolean:
        if left.const == [True]:
            return constant([True])  # the right operand is never evaluated
        if left.const == [False]:
            return boolean(right.test, right.deps)
    tests = _tests(op, left) + _tests(op, right)
    if len(tests) == 2:
        a_test, b_test = tests

        def either(ctx: Ctx, focus: Coll, this: Coll) -> bool | None:
            a = a_test(ctx, focus, this)
            if a is True:
                return True
            b = b_test(ctx, focus, this)
            if b is True:
                return True
            return False if a is False and b is False else None

        return boolean(either, deps, (op, tests))

    def any_of(ctx: Ctx, focus: Coll, this: Coll) -> bool | None:
        unknown = False
        for t in tests:
            r = t(ctx, focus, this)
            if r is True:
                return True
            if r is None:
                unknown = True
        return None if unknown else False

    return boolean(any_of, deps, (op, tests))


def _and(op: str, left: C, right: C) -> C:
    deps = left.deps | right.deps
    if left.const is not None and left.boolean:
        if left.const == [False]:
            return constant([False])
        if left.const == [True]:
            return boolean(right.test, right.deps)
    tests = _tests(op, left) + _tests(op, right)
    if len(tests) == 2:
        a_test, b_test = tests

        def both(ctx: Ctx, focus: Coll, this: Coll) -> bool | None:
            a = a_test(ctx, focus, this)
            if a is False:
                return False
            b = b_test(ctx, focus, this)
            if b is False:
                return False
            return True if a is True and b is True else None

        return boolean(both, deps, (op, tests))

    def all_of(ctx: Ctx, focus: Coll, this: Coll) -> bool | None:
        unknown = False
        for t in tests:
            r = t(ctx, focus, this)
            if r is False:
                return False
            if r is None:
                unknown = True
        return None if unknown else True

    return boolean(all_of, deps, (op, tests))


def _xor(op: str, left: C, right: C) -> C:
    a_test, b_test = left.test, right.test

    def test(ctx: Ctx, focus: Coll, this: Coll) -> bool | None:
        a = a_test(ctx, focus, this)
        if a is None:
            return None
        b = b_test(ctx, focus, this)
        return None if b is None else a is not b

    return boolean(test, left.deps | right.deps)


def _implies(op: str, left: C, right: C) -> C:
    if left.const is not None and left.boolean and left.const == [False]:
        return constant([True])  # the right operand is never evaluated
    a_test, b_test = left.test, right.test

    def test(ctx: Ctx, focus: Coll, this: Coll) -> bool | None:
        a = a_test(ctx, focus, this)
        if a is False:
            return True
        b = b_test(ctx, focus, this)
        if b is True:
            return True
        if a is True and b is False:
            return False
        return None

    return boolean(test, left.deps | right.deps)


def _not(site: CallSite) -> C:
    base = site.base
    if base is None:

        def negate_focus(ctx: Ctx, focus: Coll, this: Coll) -> bool | None:
            b = to_bool3(focus)
            return None if b is None else not b

        return boolean(negate_focus, site.deps())
    inner = base.test

    def negate(ctx: Ctx, focus: Coll, this: Coll) -> bool | None:
        b = inner(ctx, focus, this)
        return None if b is None else not b

    return boolean(negate, site.deps())


OPERATORS: Final[dict[str, BinaryBuilder]] = {
    "and": _and,
    "or": _or,
    "xor": _xor,
    "implies": _implies,
}
FUNCTIONS: Final[dict[str, FunctionSpec]] = {"not": FunctionSpec(_not)}

"""FHIRPath §6.5 Boolean logic: and, or, xor, implies, not(), with three-valued logic.

Operands are used through their test forms (no ``[True]`` lists in between); ``and`` and
``or`` short-circuit left to right as the specification allows, and a chain such as
``a or b or c`` is one loop over the operands' tests (the same calls in the same order as
the nested form, so results and errors are identical). A constant left operand folds.

Each combinator is written twice, once per calling convention: over ``(ctx, focus,
this)`` and over a focus object (the object forms, see :class:`.._compiled.C`). The two
differ only in how an operand is called; a shared generic version would cost a call or an
argument tuple per operand, which is what the object forms exist to save.
"""

from __future__ import annotations

from typing import Any, Final

from .._compiled import (
    BinaryBuilder,
    C,
    CallSite,
    FunctionSpec,
    ObjectTest,
    Test,
    boolean,
    constant,
)
from .._runtime import Coll, Ctx, to_bool3


def _kleene(tests: tuple[Test, ...], stop: bool) -> Test:
    """``or`` (``stop`` True) or ``and`` (``stop`` False) over ``tests``, left to right."""
    if len(tests) == 2:
        a_test, b_test = tests

        def two(ctx: Ctx, focus: Coll, this: Coll) -> bool | None:
            a = a_test(ctx, focus, this)
            if a is stop:
                return stop
            b = b_test(ctx, focus, this)
            if b is stop:
                return stop
            return (not stop) if a is not None and b is not None else None

        return two

    def many(ctx: Ctx, focus: Coll, this: Coll) -> bool | None:
        unknown = False
        for t in tests:
            r = t(ctx, focus, this)
            if r is stop:
                return stop
            if r is None:
                unknown = True
        return None if unknown else not stop

    return many


def _kleene_object(tests: tuple[ObjectTest, ...], stop: bool) -> ObjectTest:
    """:func:`_kleene` for object tests (see :class:`.._compiled.C`)."""
    if len(tests) == 2:
        a_test, b_test = tests

        def two(v: dict[str, Any]) -> bool | None:
            a = a_test(v)
            if a is stop:
                return stop
            b = b_test(v)
            if b is stop:
                return stop
            return (not stop) if a is not None and b is not None else None

        return two

    def many(v: dict[str, Any]) -> bool | None:
        unknown = False
        for t in tests:
            r = t(v)
            if r is stop:
                return stop
            if r is None:
                unknown = True
        return None if unknown else not stop

    return many


def _operands(op: str, c: C) -> tuple[tuple[Test, ...], tuple[ObjectTest, ...] | None]:
    j = c.junction
    if j is not None and j[0] == op:
        return j[1], j[2]
    return (c.test,), None if c.obj_test is None else (c.obj_test,)


def _junction(op: str, left: C, right: C) -> C:
    """``and`` / ``or``."""
    stop = op == "or"  # the operand value that decides the result
    if left.const is not None and left.boolean and left.const:
        if left.const[0] is stop:
            return constant([stop])  # the right operand is never evaluated
        return boolean(right.test, right.deps, obj_test=right.obj_test)
    left_tests, left_objs = _operands(op, left)
    right_tests, right_objs = _operands(op, right)
    tests = left_tests + right_tests
    objs = None if left_objs is None or right_objs is None else left_objs + right_objs
    obj_test = None if objs is None else _kleene_object(objs, stop)
    return boolean(_kleene(tests, stop), left.deps | right.deps, (op, tests, objs), obj_test)


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

    obj_test: ObjectTest | None = None
    if left.obj_test is not None and right.obj_test is not None:
        a_obj, b_obj = left.obj_test, right.obj_test

        def obj_test(v: dict[str, Any]) -> bool | None:
            a = a_obj(v)
            if a is False:
                return True
            b = b_obj(v)
            if b is True:
                return True
            if a is True and b is False:
                return False
            return None

    return boolean(test, left.deps | right.deps, obj_test=obj_test)


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

    obj_test: ObjectTest | None = None
    if base.obj_test is not None:
        inner_obj = base.obj_test

        def obj_test(v: dict[str, Any]) -> bool | None:
            b = inner_obj(v)
            return None if b is None else not b

    return boolean(negate, site.deps(), obj_test=obj_test)


OPERATORS: Final[dict[str, BinaryBuilder]] = {
    "and": _junction,
    "or": _junction,
    "xor": _xor,
    "implies": _implies,
}
FUNCTIONS: Final[dict[str, FunctionSpec]] = {"not": FunctionSpec(_not)}

"""What a compiled FHIRPath sub-expression is, and what a function's compiler is given.

A sub-expression compiles to closures over ``(ctx, focus, this)``: ``focus`` is the
collection an implicit path starts from (the input of the enclosing function, or the
current item inside ``where``/``select``/...), ``this`` is ``$this``. Besides the
collection form ``fn`` every node carries cheaper forms for the ways a parent uses its
result, so that no intermediate collection is built where none is needed:

- ``test``: singleton evaluation as a Boolean, exactly ``to_bool3(fn(...))``
  (``True``/``False``, ``None`` for empty; raises on several items);
- ``exists`` / ``empty``: exactly ``bool(fn(...))`` / ``not fn(...)``;
- ``count``: exactly ``len(fn(...))``.

A node that has nothing better gets each form derived from ``fn``; a node whose result is
always ``[]``, ``[True]`` or ``[False]`` (``boolean``) is written as its ``test`` and gets
``fn`` derived from that. Each form evaluates the same sub-expressions in the same order
as ``fn`` would, so errors and short-circuits are the same whichever form a parent uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from . import _parser as ast
from ._model import TypeModel
from ._parser import FhirPathError
from ._runtime import NOTHING, UNUSED_CONTEXT, Coll, Ctx, to_bool3

Fn = Callable[[Ctx, Coll, Coll], Coll]
Test = Callable[[Ctx, Coll, Coll], bool | None]
Exists = Callable[[Ctx, Coll, Coll], bool]
Count = Callable[[Ctx, Coll, Coll], int]
Pred = Callable[[Any], bool]


@dataclass(frozen=True)
class Deps:
    """What a sub-expression's value depends on (decides folding and memoising)."""

    focus: bool = False  # reads the focus collection
    this: bool = False  # reads $this / $index / $total
    env: bool = False  # reads the environment (%vars, clock, hooks): never folded
    ctx: bool = False  # reads or writes the evaluation context beyond passing it on
    cost: bool = False  # navigates or calls functions (worth memoising)

    def __or__(self, other: Deps) -> Deps:
        return Deps(
            self.focus or other.focus,
            self.this or other.this,
            self.env or other.env,
            self.ctx or other.ctx,
            self.cost or other.cost,
        )


NO_DEPS: Final = Deps()


ObjectItems = Callable[[dict[str, Any]], Coll]
ObjectTest = Callable[[dict[str, Any]], bool | None]
ObjectExists = Callable[[dict[str, Any]], bool]


Junction = tuple[str, tuple[Test, ...], tuple[ObjectTest, ...] | None]
"""A flattened ``and``/``or``: the operator, its operands' tests and object tests."""


class C:
    """A compiled sub-expression: its forms (see the module docstring) and dependencies.

    ``junction`` is set on a flattened ``and``/``or`` (see :data:`Junction`), so that
    ``a or b or c`` becomes one loop instead of nested calls.

    When the compiler knows the FHIR type of the focus (an invariant compiled for its
    element), ``item_type`` is the type of every item of the result where that is
    certain, and a node that depends on nothing but the focus may have object forms:
    ``obj(v)``, ``obj_test(v)``, ``obj_exists(v)``, ``obj_empty(v)`` are ``fn``, ``test``,
    ``exists``, ``empty`` evaluated on the focus ``[(v, type, None)]`` for a JSON object
    ``v``, without building that collection (nor, for plain paths, their result).
    """

    def __init__(
        self,
        fn: Fn,
        deps: Deps = NO_DEPS,
        *,
        test: Test | None = None,
        exists: Exists | None = None,
        empty: Exists | None = None,
        count: Count | None = None,
        boolean: bool = False,
        const: Coll | None = None,
        junction: Junction | None = None,
        item_type: str | None = None,
        obj: ObjectItems | None = None,
        obj_test: ObjectTest | None = None,
        obj_exists: ObjectExists | None = None,
        obj_empty: ObjectExists | None = None,
    ) -> None:
        self.fn = fn
        self.deps = deps
        self.boolean = boolean
        self.const = const
        self.junction = junction
        self.item_type = item_type
        self.test: Test = test if test is not None else _test_of(fn)
        self.exists: Exists = exists if exists is not None else _exists_of(fn)
        self.empty: Exists = empty if empty is not None else _empty_of(self.exists)
        self.count: Count = count if count is not None else _count_of(fn)
        if obj is None and obj_test is not None and boolean:
            obj = _obj_of_test(obj_test)
        if obj is not None:
            obj_test = obj_test if obj_test is not None else _obj_test_of(obj)
            obj_exists = obj_exists if obj_exists is not None else _obj_exists_of(obj)
        if obj_exists is not None and obj_empty is None:
            obj_empty = _obj_empty_of(obj_exists)
        self.obj = obj
        self.obj_test = obj_test
        self.obj_exists = obj_exists
        self.obj_empty = obj_empty


def _obj_empty_of(exists: ObjectExists) -> ObjectExists:
    def empty(v: dict[str, Any]) -> bool:
        return not exists(v)

    return empty


def _obj_of_test(test: ObjectTest) -> ObjectItems:
    def obj(v: dict[str, Any]) -> Coll:
        r = test(v)
        return [] if r is None else [r]

    return obj


def _obj_test_of(obj: ObjectItems) -> ObjectTest:
    def test(v: dict[str, Any]) -> bool | None:
        return to_bool3(obj(v))

    return test


def _obj_exists_of(obj: ObjectItems) -> ObjectExists:
    def exists(v: dict[str, Any]) -> bool:
        return bool(obj(v))

    return exists


def _test_of(fn: Fn) -> Test:
    def test(ctx: Ctx, focus: Coll, this: Coll) -> bool | None:
        return to_bool3(fn(ctx, focus, this))

    return test


def _exists_of(fn: Fn) -> Exists:
    def exists(ctx: Ctx, focus: Coll, this: Coll) -> bool:
        return bool(fn(ctx, focus, this))

    return exists


def _empty_of(exists: Exists) -> Exists:
    def empty(ctx: Ctx, focus: Coll, this: Coll) -> bool:
        return not exists(ctx, focus, this)

    return empty


def _count_of(fn: Fn) -> Count:
    def count(ctx: Ctx, focus: Coll, this: Coll) -> int:
        return len(fn(ctx, focus, this))

    return count


def boolean(
    test: Test,
    deps: Deps,
    junction: Junction | None = None,
    obj_test: ObjectTest | None = None,
) -> C:
    """A node whose value is ``[]``, ``[True]`` or ``[False]``, written as its test."""

    def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
        r = test(ctx, focus, this)
        return [] if r is None else [r]

    def exists(ctx: Ctx, focus: Coll, this: Coll) -> bool:
        return test(ctx, focus, this) is not None

    def count(ctx: Ctx, focus: Coll, this: Coll) -> int:
        return 0 if test(ctx, focus, this) is None else 1

    return C(
        fn,
        deps,
        test=test,
        exists=exists,
        count=count,
        boolean=True,
        junction=junction,
        obj_test=obj_test,
    )


def constant(values: Coll) -> C:
    """A node with a value known at compile time (literals and what folds from them)."""
    frozen = list(values)
    n = len(frozen)
    single: bool | None = None
    if n == 1:
        single = to_bool3(frozen)

    def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
        return frozen

    def exists(ctx: Ctx, focus: Coll, this: Coll) -> bool:
        return n > 0

    def count(ctx: Ctx, focus: Coll, this: Coll) -> int:
        return n

    test: Test | None = None
    if n < 2:  # several items: to_bool3 raises, so keep the derived test

        def test(ctx: Ctx, focus: Coll, this: Coll) -> bool | None:
            return single

    def obj(v: dict[str, Any]) -> Coll:
        return frozen

    flag = n == 0 or (n == 1 and (frozen[0] is True or frozen[0] is False))
    return C(fn, test=test, exists=exists, count=count, boolean=flag, const=frozen, obj=obj)


def identity(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
    """The focus itself: the input of a function called without a base (``exists()``)."""
    return focus


class FunctionSpec:
    """How to compile one FHIRPath function.

    ``builder(site)`` returns the compiled call; ``min_args``..``max_args`` its arity;
    ``per_item``: the arguments evaluated once per input item with ``$this`` bound to it
    (``where(criteria)``); ``env``: the result depends on more than the data (clock,
    hooks), so it is never folded; ``type_args``: the arguments are type specifiers
    (``ofType(Quantity)``), compiled to predicates.
    """

    def __init__(
        self,
        builder: Callable[[CallSite], C],
        min_args: int = 0,
        max_args: int | None = None,
        *,
        per_item: frozenset[int] = frozenset(),
        env: bool = False,
        type_args: bool = False,
    ) -> None:
        self.builder = builder
        self.min_args = min_args
        self.max_args = min_args if max_args is None else max_args
        self.per_item = per_item
        self.env = env
        self.type_args = type_args


EACH: Final = frozenset({0})  # ``per_item`` of functions whose first argument is a lambda


class CallSite:
    """A function call being compiled: the call, its compiled input and arguments.

    ``base`` is the compiled expression the function is called on (None: the focus).
    ``focus_type`` is the FHIR type of the focus where known, ``input_type`` that of the
    input's items. A builder whose code reads or writes the evaluation context
    (``$index``, the cost budget, options and hooks) says so with ``ctx=True``, so that
    expressions that never touch it are evaluated without making one.
    """

    def __init__(
        self,
        node: ast.Call,
        spec: FunctionSpec,
        base: C | None,
        args: list[C],
        types: list[Pred],
        tm: TypeModel,
        expression: str,
        focus_type: str | None,
    ) -> None:
        self.node = node
        self.name = node.name
        self.base = base
        self.args = args
        self.types = types
        self.tm = tm
        self.expression = expression
        self.focus_type = focus_type
        self.input_type = focus_type if base is None else base.item_type
        deps = Deps(focus=base is None, env=spec.env, cost=True)
        if base is not None:
            deps = deps | base.deps
        for i, a in enumerate(args):
            # $this inside a lambda is the item, not ours
            this = a.deps.this and i not in spec.per_item
            deps = deps | Deps(this=this, env=a.deps.env, ctx=a.deps.ctx)
        self._deps = deps

    def error(self, message: str) -> FhirPathError:
        return FhirPathError(message, self.expression, self.node.pos)

    def deps(self, *, ctx: bool = False) -> Deps:
        return self._deps | Deps(ctx=True) if ctx else self._deps

    @property
    def input(self) -> Fn:
        """The collection form of the function's input."""
        return identity if self.base is None else self.base.fn

    def object_input(self, *, ctx: bool = False) -> ObjectItems | None:
        """The input as a function of the focus object, where the call can have object
        forms (it depends on nothing but the focus)."""
        if ctx or self._deps.ctx or self._deps.this:
            return None
        if self.base is not None:
            return self.base.obj
        focus_type = self.focus_type
        if focus_type is None:
            return None

        def focus(v: dict[str, Any]) -> Coll:
            return [(v, focus_type, None)]

        return focus

    def chain(self, impl: Fn, *, ctx: bool = False, same_items: bool = False) -> C:
        """The call of ``impl(ctx, input, this)``, its other forms derived;
        ``same_items``: it returns items of its input (so of the input's type)."""
        obj: ObjectItems | None = None
        source = self.object_input(ctx=ctx)
        if source is not None:
            obj_source = source

            def obj(v: dict[str, Any]) -> Coll:
                return impl(UNUSED_CONTEXT, obj_source(v), NOTHING)

        item_type = self.input_type if same_items else None
        return C(self.chained(impl), self.deps(ctx=ctx), item_type=item_type, obj=obj)

    def chained(self, impl: Fn) -> Fn:
        if self.base is None:
            return impl
        bfn = self.base.fn

        def chained(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
            return impl(ctx, bfn(ctx, focus, this), this)

        return chained

    def chain_test(self, impl: Test, *, ctx: bool = False) -> C:
        """A Boolean-valued call of ``impl(ctx, input, this)``."""
        obj_test: ObjectTest | None = None
        source = self.object_input(ctx=ctx)
        if source is not None:
            obj_source = source

            def obj_test(v: dict[str, Any]) -> bool | None:
                return impl(UNUSED_CONTEXT, obj_source(v), NOTHING)

        if self.base is None:
            return boolean(impl, self.deps(ctx=ctx), obj_test=obj_test)
        bfn = self.base.fn

        def chained(ctx: Ctx, focus: Coll, this: Coll) -> bool | None:
            return impl(ctx, bfn(ctx, focus, this), this)

        return boolean(chained, self.deps(ctx=ctx), obj_test=obj_test)


Builder = Callable[[CallSite], C]
BinaryBuilder = Callable[[str, C, C], C]
"""Compiles ``left OP right`` given the operator and both compiled operands."""

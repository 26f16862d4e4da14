"""Compile a FHIRPath AST into closures (see :mod:`._compiled` for what a node becomes).

The compiler handles the terms of the grammar (literals, paths, ``%variables``,
``$this``) and hands operators and functions to their sections of the specification:
:data:`.operators.BINARY` and :data:`.functions.FUNCTIONS` map each operator and function
name to its compiler. Sub-expressions that depend on neither the focus nor ``$this`` are
folded to constants at compile time when they only use literals, or memoised per
evaluation when they read the environment (``%resource.descendants()`` inside a ``where``
is computed once, not once per item).

``focus_type`` is the FHIR type of the focus the expression will be evaluated on, when
known (an invariant compiled for its element): the type of the items of every plain path
is then known too, their navigation plans are ready, and nodes get object forms that
evaluate on the focus object directly (see :class:`._compiled.C`).

``optimise=False`` gives every node only the forms derived from its collection form
(no fused existence tests, no flattened ``and``/``or`` chains, no object forms): the
tests compile both ways and check that they agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any, Final

from . import _parser as ast
from ._compiled import C, CallSite, Deps, Fn, Pred, constant
from ._model import model
from ._navigation import Member
from ._parser import FhirPathError
from ._runtime import (
    DEFAULT_OPTIONS,
    NOTHING,
    UNUSED_CONTEXT,
    Coll,
    Ctx,
    EvalProblem,
    problem,
    resource_node,
)
from .functions import FUNCTIONS
from .functions.subsetting import indexer
from .operators import BINARY
from .operators.math import unary
from .operators.types import type_matcher, type_operator

_CONSTANTS: Final[dict[str, str]] = {
    "ucum": "http://unitsofmeasure.org",
    "sct": "http://snomed.info/sct",
    "loinc": "http://loinc.org",
}
_FOCUS: Final = Deps(focus=True, cost=True)
_ENV: Final = Deps(env=True, ctx=True)
_THIS: Final = Deps(this=True, ctx=True)


Scope = str | None  # the FHIR type of the focus items, where known


class Compiler:
    def __init__(self, expression: str, *, optimise: bool = True, focus_type: str | None = None):
        self.expression = expression
        self.optimise = optimise
        self.focus_type = focus_type if optimise else None
        self.tm = model()
        self._terms: dict[type[ast.Node], Callable[[Any, Scope], C]] = {
            ast.Literal: self._literal,
            ast.Ident: self._ident,
            ast.Member: self._member,
            ast.Var: self._var,
            ast.Special: self._special,
            ast.Call: self._call,
            ast.Indexer: self._indexer,
            ast.Unary: self._unary,
            ast.TypeOp: self._typeop,
            ast.Binary: self._binary,
        }

    def error(self, message: str, node: ast.Node) -> FhirPathError:
        return FhirPathError(message, self.expression, node.pos)

    def compile_root(self, node: ast.Node) -> C:
        return self.compile(node, self.focus_type)

    def compile(self, node: ast.Node, scope: Scope) -> C:
        c = self._terms[type(node)](node, scope)
        deps = c.deps
        if c.const is None and not (deps.focus or deps.this):
            if not deps.env:
                try:
                    value = c.fn(Ctx(None, None, [], DEFAULT_OPTIONS), [], [])
                except EvalProblem:
                    return self._finish(c, scope)
                return constant(value)
            if deps.cost:
                return self._memoised(c, node)
        return self._finish(c, scope)

    def _finish(self, c: C, scope: Scope) -> C:
        """``c`` with object forms where it has none and could; with only derived forms
        when not optimising."""
        if c.const is not None:
            return c
        if not self.optimise:
            return C(c.fn, c.deps, boolean=c.boolean)
        if scope is None or c.obj_test is not None or c.deps.ctx or c.deps.this:
            return c
        fn, test = c.fn, c.test
        focus_type: str = scope

        def obj(v: dict[str, Any]) -> Coll:
            return fn(UNUSED_CONTEXT, [(v, focus_type, None)], NOTHING)

        def obj_test(v: dict[str, Any]) -> bool | None:
            return test(UNUSED_CONTEXT, [(v, focus_type, None)], NOTHING)

        return C(
            c.fn,
            c.deps,
            test=c.test,
            exists=c.exists,
            empty=c.empty,
            count=c.count,
            boolean=c.boolean,
            junction=c.junction,
            item_type=c.item_type,
            obj=c.obj or obj,
            obj_test=obj_test,
            obj_exists=c.obj_exists,
            obj_empty=c.obj_empty,
        )

    @staticmethod
    def _memoised(c: C, node: ast.Node) -> C:
        """Evaluate once per evaluation; identical sub-expressions share one result."""
        inner = c.fn
        key = _shape(node)

        def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
            memo = ctx.memo
            hit = memo.get(key)
            if hit is None:
                hit = memo[key] = inner(ctx, focus, this)
            return hit

        return C(fn, Deps(env=True, ctx=True, cost=True), boolean=c.boolean)

    # -- terms --

    def _literal(self, node: ast.Literal, scope: Scope) -> C:
        return constant(list(node.values))

    def _ident(self, node: ast.Ident, scope: Scope) -> C:
        name = node.name
        if name[:1].isupper():
            pred = type_matcher(name)
            if pred is not None:

                def type_filter(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
                    return [it for it in focus if pred(it)]

                return C(type_filter, _FOCUS)
        nav = Member(name, self.tm, scope)
        return C(
            nav.fn,
            _FOCUS,
            exists=nav.exists,
            empty=nav.empty,
            count=nav.count,
            item_type=nav.item_type,
            obj=nav.of_object,
            obj_exists=nav.in_object,
            obj_empty=nav.not_in_object,
        )

    def _member(self, node: ast.Member, scope: Scope) -> C:
        base = self.compile(node.base, scope)
        bfn = base.fn
        nav = Member(node.name, self.tm, base.item_type)
        fn, exists, count = nav.fn, nav.exists, nav.count

        def member(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
            return fn(ctx, bfn(ctx, focus, this), this)

        def member_exists(ctx: Ctx, focus: Coll, this: Coll) -> bool:
            return exists(ctx, bfn(ctx, focus, this), this)

        def member_empty(ctx: Ctx, focus: Coll, this: Coll) -> bool:
            return not exists(ctx, bfn(ctx, focus, this), this)

        def member_count(ctx: Ctx, focus: Coll, this: Coll) -> int:
            return count(ctx, bfn(ctx, focus, this), this)

        obj = obj_exists = None
        if base.obj is not None:
            bobj = base.obj

            def obj(v: dict[str, Any]) -> Coll:
                return fn(UNUSED_CONTEXT, bobj(v), NOTHING)

            def obj_exists(v: dict[str, Any]) -> bool:
                return exists(UNUSED_CONTEXT, bobj(v), NOTHING)

        return C(
            member,
            base.deps | Deps(cost=True),
            exists=member_exists,
            empty=member_empty,
            count=member_count,
            item_type=nav.item_type,
            obj=obj,
            obj_exists=obj_exists,
        )

    def _var(self, node: ast.Var, scope: Scope) -> C:
        name = node.name
        if name in _CONSTANTS:
            return constant([_CONSTANTS[name]])
        if name.startswith("vs-"):
            return constant(["http://hl7.org/fhir/ValueSet/" + name[3:]])
        if name.startswith("ext-"):
            return constant(["http://hl7.org/fhir/StructureDefinition/" + name[4:]])
        fn: Fn
        if name == "resource":

            def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
                return [] if ctx.resource is None else [ctx.resource]

        elif name == "rootResource":

            def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
                return [] if ctx.root is None else [ctx.root]

        elif name == "context":

            def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
                return list(ctx.context)

        else:

            def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
                variables = ctx.opts.variables
                if name not in variables:
                    raise problem(f"undefined environment variable %{name}")
                value = variables[name]
                out: Coll = []
                if type(value) is list:
                    for v in value:
                        out.append(v if type(v) is tuple else resource_node(v))
                elif value is not None:
                    out.append(value if type(value) is tuple else resource_node(value))
                return out

        return C(fn, _ENV)

    def _special(self, node: ast.Special, scope: Scope) -> C:
        fn: Fn
        if node.name == "$this":

            def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
                return this

            return C(fn, Deps(this=True))
        if node.name == "$index":

            def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
                return [ctx.index]

        else:

            def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
                return ctx.total

        return C(fn, _THIS)

    def _indexer(self, node: ast.Indexer, scope: Scope) -> C:
        return indexer(self.compile(node.base, scope), self.compile(node.index, scope))

    def _unary(self, node: ast.Unary, scope: Scope) -> C:
        return unary(node.op, self.compile(node.operand, scope))

    def _type_name(self, node: ast.Node) -> str:
        if isinstance(node, ast.Ident):
            return node.name
        if isinstance(node, ast.Member):
            return self._type_name(node.base) + "." + node.name
        raise self.error("expected a type name", node)

    def _matcher(self, type_name: str, node: ast.Node) -> Pred:
        pred = type_matcher(type_name)
        if pred is None:
            raise self.error(f"unknown type {type_name!r}", node)
        return pred

    def _typeop(self, node: ast.TypeOp, scope: Scope) -> C:
        operand = self.compile(node.operand, scope)
        return type_operator(node.op, operand, self._matcher(node.type_name, node))

    def _binary(self, node: ast.Binary, scope: Scope) -> C:
        build = BINARY.get(node.op)
        if build is None:  # pragma: no cover - the parser only produces known operators
            raise self.error(f"unsupported operator {node.op!r}", node)
        return build(node.op, self.compile(node.left, scope), self.compile(node.right, scope))

    def _call(self, node: ast.Call, scope: Scope) -> C:
        spec = FUNCTIONS.get(node.name)
        if spec is None:
            raise self.error(f"unknown function {node.name}()", node)
        if not spec.min_args <= len(node.args) <= spec.max_args:
            lo, hi = spec.min_args, spec.max_args
            expected = str(lo) if lo == hi else f"{lo} to {hi}"
            raise self.error(
                f"{node.name}() takes {expected} argument(s), got {len(node.args)}", node
            )
        base = self.compile(node.base, scope) if node.base is not None else None
        # arguments see the input (lambdas one item of it) as their focus
        inner = scope if base is None else base.item_type
        args: list[C] = []
        types: list[Pred] = []
        for arg in node.args:
            if spec.type_args:
                types.append(self._matcher(self._type_name(arg), arg))
            else:
                args.append(self.compile(arg, inner))
        site = CallSite(node, spec, base, args, types, self.tm, self.expression, scope)
        return spec.builder(site)


def _shape(node: ast.Node) -> str:
    """The structure of a sub-expression without source positions (a memo key)."""
    parts = [type(node).__name__]
    for f in fields(node):
        if f.name == "pos":
            continue
        value = getattr(node, f.name)
        if isinstance(value, ast.Node):
            parts.append(_shape(value))
        elif isinstance(value, tuple):
            parts.append(
                "("
                + ",".join(_shape(v) if isinstance(v, ast.Node) else repr(v) for v in value)
                + ")"
            )
        else:
            parts.append(repr(value))
    return "[" + " ".join(parts) + "]"


FUNCTION_NAMES: Final = frozenset(FUNCTIONS)

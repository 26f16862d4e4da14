"""Compile a FHIRPath AST into nested Python closures.

Every compiled sub-expression is a function ``fn(ctx, focus, this) -> list``: ``focus`` is
the collection an implicit path starts from (the input of the enclosing function, or the
current item inside ``where``/``select``/...), ``this`` is ``$this``. Sub-expressions that
depend on neither are folded to constants at compile time when they only use literals,
or memoised per evaluation when they read the environment (``%resource.descendants()``
inside a ``where`` is computed once, not once per item).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from decimal import Decimal, DivisionByZero, InvalidOperation
from functools import lru_cache
from typing import Any, Final

from . import _parser as ast
from ._html import html_checks, html_has_content
from ._model import PRIMITIVE_SYSTEM, QUANTITY_TYPES, SYSTEM_TYPES, TypeModel, model
from ._parser import FhirPathError
from ._runtime import (
    DEFAULT_OPTIONS,
    Coll,
    Ctx,
    EvalProblem,
    bool_item,
    children,
    cmp_value,
    compare,
    dedupe,
    emit,
    eq_key,
    equal,
    equivalent,
    prim,
    problem,
    resource_node,
    single_number,
    single_string,
    to_bool3,
    to_decimal_value,
    to_integer,
    to_string,
    type_label,
)
from ._values import (
    DATE_KIND,
    DATETIME_KIND,
    TIME_KIND,
    Quantity,
    Temporal,
    now_datetime,
    parse_datetime,
    parse_time,
    time_of_day,
    to_decimal,
    today_date,
)

Fn = Callable[[Ctx, Coll, Coll], Coll]
Pred = Callable[[Any], bool]

_TRUE: Final[Coll] = [True]
_FALSE: Final[Coll] = [False]

_CONSTANTS: Final[dict[str, str]] = {
    "ucum": "http://unitsofmeasure.org",
    "sct": "http://snomed.info/sct",
    "loinc": "http://loinc.org",
}


@dataclass(frozen=True, slots=True)
class C:
    """A compiled sub-expression and what it depends on."""

    fn: Fn
    focus: bool = False  # reads the focus collection
    this: bool = False  # reads $this / $index / $total
    env: bool = False  # reads the environment (%vars, clock, hooks)
    cost: bool = False  # navigates or calls functions (worth memoising)
    const: Coll | None = None


def _const(values: Coll) -> C:
    frozen = list(values)

    def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
        return frozen

    return C(fn, const=frozen)


# --- navigation ---------------------------------------------------------------------


def make_nav(name: str, tm: TypeModel) -> Callable[[Coll], Coll]:
    """Child navigation ``.name`` over a collection, with choice types and ``_name``."""
    plans: dict[str | None, Any] = {}
    plan_for = tm.plan
    want_ext = name == "extension"
    want_id = name == "id"

    def nav(items: Coll) -> Coll:
        out: Coll = []
        for it in items:
            if type(it) is not tuple:
                continue
            v = it[0]
            if type(v) is not dict:
                x = it[2]
                if x is not None:
                    if want_ext:
                        emit(out, x.get("extension"), "Extension", None)
                    elif want_id and "id" in x:
                        out.append((x["id"], "string", None))
                continue
            t = it[1]
            plan = plans.get(t)
            if plan is None:
                plan = plans[t] = plan_for(t, name)
            for key, ukey, ct in plan:
                cv = v.get(key)
                if ukey is None:
                    if cv is None:
                        continue
                    if type(cv) is dict:
                        if ct is None or ct == "Resource":
                            emit(out, cv, ct, None)
                        else:
                            out.append((cv, ct, None))
                    else:
                        emit(out, cv, ct, None)
                else:
                    ce = v.get(ukey)
                    if cv is None and ce is None:
                        continue
                    if type(cv) is list or type(ce) is list or type(cv) is dict:
                        emit(out, cv, ct, ce)
                    else:
                        out.append((cv, ct, ce if type(ce) is dict else None))
        return out

    return nav


# --- type tests ---------------------------------------------------------------------

_PY_CHECKS: Final[dict[str, Pred]] = {
    "Boolean": lambda v: type(v) is bool,
    "String": lambda v: type(v) is str,
    "Integer": lambda v: type(v) is int,
    "Decimal": lambda v: type(v) is float or type(v) is Decimal,
    "Date": lambda v: type(v) is Temporal and v.kind == DATE_KIND,
    "DateTime": lambda v: type(v) is Temporal and v.kind == DATETIME_KIND,
    "Time": lambda v: type(v) is Temporal and v.kind == TIME_KIND,
    "Quantity": lambda v: type(v) is Quantity,
}
_ROOT_PRIMITIVES: Final[dict[str, str]] = {
    "boolean": "Boolean", "string": "String", "integer": "Integer", "decimal": "Decimal",
    "date": "Date", "dateTime": "DateTime", "time": "Time", "Quantity": "Quantity",
}  # fmt: skip


def _never(v: Any) -> bool:
    return False


@lru_cache(maxsize=256)
def type_matcher(type_name: str) -> Pred | None:
    """Predicate for ``is T`` (T or a subtype); None when T is not a known type.

    FHIR primitives also match the FHIRPath system type they map to (``answer is Boolean``
    holds for an ``answerBoolean``), as the HL7 Java engine does.
    """
    tm = model()
    ns = None
    name = type_name
    if name.startswith("FHIR."):
        ns, name = "FHIR", name[5:]
    elif name.startswith("System."):
        ns, name = "System", name[7:]
    fhir_types: frozenset[str]
    py_check: Pred
    if ns != "System" and tm.is_known(name):
        fhir_types = tm.subtypes(name)
        root = _ROOT_PRIMITIVES.get(name)
        py_check = _PY_CHECKS[root] if root is not None else _never
    elif ns != "FHIR" and name in SYSTEM_TYPES:
        if name == "Quantity":
            fhir_types = QUANTITY_TYPES
        else:
            fhir_types = frozenset(k for k, v in PRIMITIVE_SYSTEM.items() if v == name)
        py_check = _PY_CHECKS[name]
    else:
        return None

    def pred(it: Any) -> bool:
        if type(it) is tuple:
            t = it[1]
            if t is None:
                v = it[0]
                if type(v) is dict:
                    t = v.get("resourceType")
                else:
                    return py_check(v)
            return t in fhir_types
        return py_check(it)

    return pred


# --- the compiler -------------------------------------------------------------------


class Compiler:
    def __init__(self, expression: str):
        self.expression = expression
        self.tm = model()

    def error(self, message: str, node: ast.Node) -> FhirPathError:
        return FhirPathError(message, self.expression, node.pos)

    def compile(self, node: ast.Node, loop: bool = False) -> C:
        c = self._compile(node, loop)
        if c.const is None and not (c.focus or c.this):
            if not c.env:
                try:
                    value = c.fn(Ctx(None, None, [], DEFAULT_OPTIONS), [], [])
                except EvalProblem:
                    return c
                folded = _const(value)
                return folded
            if c.cost:
                return self._memoised(c, node)
        return c

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

        return C(fn, env=True, cost=True)

    def _compile(self, node: ast.Node, loop: bool) -> C:
        if isinstance(node, ast.Literal):
            return _const(list(node.values))
        if isinstance(node, ast.Ident):
            return self._ident(node)
        if isinstance(node, ast.Member):
            base = self.compile(node.base, loop)
            nav = make_nav(node.name, self.tm)
            bfn = base.fn

            def member(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
                return nav(bfn(ctx, focus, this))

            return C(member, base.focus, base.this, base.env, True)
        if isinstance(node, ast.Var):
            return self._var(node)
        if isinstance(node, ast.Special):
            return self._special(node)
        if isinstance(node, ast.Call):
            return self._call(node, loop)
        if isinstance(node, ast.Indexer):
            return self._indexer(node, loop)
        if isinstance(node, ast.Unary):
            return self._unary(node, loop)
        if isinstance(node, ast.TypeOp):
            return self._typeop(node, loop)
        if isinstance(node, ast.Binary):
            return self._binary(node, loop)
        raise self.error(f"unsupported syntax {type(node).__name__}", node)  # pragma: no cover

    # -- terms --

    def _ident(self, node: ast.Ident) -> C:
        name = node.name
        if name[:1].isupper():
            pred = type_matcher(name)
            if pred is not None:

                def type_filter(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
                    return [it for it in focus if pred(it)]

                return C(type_filter, focus=True, cost=True)
        nav = make_nav(name, self.tm)

        def ident(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
            return nav(focus)

        return C(ident, focus=True, cost=True)

    def _var(self, node: ast.Var) -> C:
        name = node.name
        if name in _CONSTANTS:
            return _const([_CONSTANTS[name]])
        if name.startswith("vs-"):
            return _const(["http://hl7.org/fhir/ValueSet/" + name[3:]])
        if name.startswith("ext-"):
            return _const(["http://hl7.org/fhir/StructureDefinition/" + name[4:]])
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

        return C(fn, env=True)

    def _special(self, node: ast.Special) -> C:
        fn: Fn
        if node.name == "$this":

            def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
                return this

        elif node.name == "$index":

            def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
                return [ctx.index]

        else:

            def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
                return ctx.total

        return C(fn, this=True)

    def _indexer(self, node: ast.Indexer, loop: bool) -> C:
        base = self.compile(node.base, loop)
        idx = self.compile(node.index, True)
        bfn, ifn = base.fn, idx.fn

        def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
            items = bfn(ctx, focus, this)
            i = single_number(ifn(ctx, focus, this), "an indexer")
            if i is None:
                return []
            if type(i) is not int:
                raise problem("an indexer needs an Integer")
            return [items[i]] if 0 <= i < len(items) else []

        return C(fn, base.focus or idx.focus, base.this or idx.this, base.env or idx.env, True)

    def _unary(self, node: ast.Unary, loop: bool) -> C:
        operand = self.compile(node.operand, loop)
        ofn = operand.fn
        negate = node.op == "-"

        def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
            v = single_number(ofn(ctx, focus, this), "unary " + node.op)
            if v is None:
                return []
            if type(v) is Quantity:
                return [Quantity(-v.value, v.unit) if negate else v]
            return [-v if negate else v]

        return C(fn, operand.focus, operand.this, operand.env, operand.cost)

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

    def _typeop(self, node: ast.TypeOp, loop: bool) -> C:
        operand = self.compile(node.operand, loop)
        pred = self._matcher(node.type_name, node)
        impl = _is_impl(pred) if node.op == "is" else _filter_impl(pred)
        ofn = operand.fn

        def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
            return impl(ofn(ctx, focus, this))

        return C(fn, operand.focus, operand.this, operand.env, operand.cost)

    # -- operators --

    def _binary(self, node: ast.Binary, loop: bool) -> C:
        op = node.op
        left = self.compile(node.left, loop)
        right = self.compile(node.right, loop)
        lf, rf = left.fn, right.fn
        fn: Fn
        if op == "and":

            def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
                a = to_bool3(lf(ctx, focus, this))
                if a is False:
                    return [False]
                b = to_bool3(rf(ctx, focus, this))
                if b is False:
                    return [False]
                return [True] if a is True and b is True else []

        elif op == "or":

            def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
                a = to_bool3(lf(ctx, focus, this))
                if a is True:
                    return [True]
                b = to_bool3(rf(ctx, focus, this))
                if b is True:
                    return [True]
                return [False] if a is False and b is False else []

        elif op == "xor":

            def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
                a = to_bool3(lf(ctx, focus, this))
                if a is None:
                    return []
                b = to_bool3(rf(ctx, focus, this))
                return [] if b is None else [a is not b]

        elif op == "implies":

            def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
                a = to_bool3(lf(ctx, focus, this))
                if a is False:
                    return [True]
                b = to_bool3(rf(ctx, focus, this))
                if b is True:
                    return [True]
                if a is True and b is False:
                    return [False]
                return []

        elif op in ("=", "!="):
            fn = _equality(lf, rf, op == "!=", right.const)
        elif op in ("~", "!~"):
            fn = _equivalence(lf, rf, op == "!~")
        elif op in ("<", ">", "<=", ">="):
            fn = _comparison(lf, rf, op)
        elif op == "|":

            def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
                return dedupe(lf(ctx, focus, this) + rf(ctx, focus, this))

        elif op in ("in", "contains"):
            fn = _membership(lf, rf, op == "contains")
        elif op == "&":

            def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
                a = single_string(lf(ctx, focus, this), "&")
                b = single_string(rf(ctx, focus, this), "&")
                return [(a or "") + (b or "")]

        elif op in ("+", "-", "*", "/", "div", "mod"):
            fn = _arithmetic(lf, rf, op)
        else:  # pragma: no cover - the parser only produces the operators above
            raise self.error(f"unsupported operator {op!r}", node)
        return C(
            fn,
            left.focus or right.focus,
            left.this or right.this,
            left.env or right.env,
            left.cost or right.cost,
        )

    # -- function calls --

    def _call(self, node: ast.Call, loop: bool) -> C:
        spec = _FUNCTIONS.get(node.name)
        if spec is None:
            raise self.error(f"unknown function {node.name}()", node)
        lo, hi, lambdas, env, builder = spec
        if not lo <= len(node.args) <= hi:
            expected = str(lo) if lo == hi else f"{lo} to {hi}"
            raise self.error(
                f"{node.name}() takes {expected} argument(s), got {len(node.args)}", node
            )
        if node.base is not None:
            base: C | None = self.compile(node.base, loop)
        else:
            base = None
        args: list[C] = []
        type_args: list[Pred] = []
        for arg in node.args:
            if node.name in ("is", "as", "ofType"):
                type_args.append(self._matcher(self._type_name(arg), arg))
                continue
            args.append(self.compile(arg, True))
        impl = builder(self, node, args, type_args)
        this_dep = any(a.this for i, a in enumerate(args) if i not in lambdas)
        env_dep = env or any(a.env for a in args)
        fn: Fn
        if base is None:
            fn = impl
            return C(fn, True, this_dep, env_dep, True)
        bfn = base.fn

        def chained(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
            return impl(ctx, bfn(ctx, focus, this), this)

        return C(chained, base.focus, base.this or this_dep, base.env or env_dep, True)


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


# --- operator implementations -------------------------------------------------------


def _equality(lf: Fn, rf: Fn, negate: bool, rconst: Coll | None) -> Fn:
    if rconst is not None and len(rconst) == 1 and type(rconst[0]) is str:
        lit = rconst[0]

        def fast(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
            a = lf(ctx, focus, this)
            if len(a) == 1:
                it = a[0]
                if type(it) is tuple and type(it[0]) is str and it[1] not in _DATE_LIKE:
                    return [(it[0] == lit) is not negate]
                r = equal(it, lit)
                return [] if r is None else [r is not negate]
            if not a:
                return []
            return [negate]

        return fast

    def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
        a = lf(ctx, focus, this)
        if not a:
            return []
        b = rf(ctx, focus, this)
        if not b:
            return []
        if len(a) != len(b):
            return [negate]
        result = True
        for x, y in zip(a, b, strict=True):
            r = equal(x, y)
            if r is None:
                return []
            if not r:
                result = False
        return [result is not negate]

    return fn


_DATE_LIKE: Final = frozenset({"date", "dateTime", "instant", "time"})


def _equivalence(lf: Fn, rf: Fn, negate: bool) -> Fn:
    def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
        a = lf(ctx, focus, this)
        b = rf(ctx, focus, this)
        if len(a) != len(b):
            return [negate]
        rest = list(b)
        for x in a:
            for j, y in enumerate(rest):
                if equivalent(x, y):
                    del rest[j]
                    break
            else:
                return [negate]
        return [not negate]

    return fn


def _comparison(lf: Fn, rf: Fn, op: str) -> Fn:
    accept = {
        "<": (-1,),
        ">": (1,),
        "<=": (-1, 0),
        ">=": (0, 1),
    }[op]

    def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
        a = lf(ctx, focus, this)
        if not a:
            return []
        b = rf(ctx, focus, this)
        if not b:
            return []
        if len(a) > 1 or len(b) > 1:
            raise problem(f"'{op}' needs single items on both sides")
        c = compare(a[0], b[0])
        return [] if c is None else [c in accept]

    return fn


def _membership(lf: Fn, rf: Fn, contains: bool) -> Fn:
    def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
        a = lf(ctx, focus, this)
        b = rf(ctx, focus, this)
        item_side, coll = (b, a) if contains else (a, b)
        if not item_side:
            return []
        if len(item_side) > 1:
            raise problem(f"'{'contains' if contains else 'in'}' needs a single item")
        x = item_side[0]
        for y in coll:
            if equal(x, y):
                return [True]
        return [False]

    return fn


def _num_pair(a: Any, b: Any) -> tuple[Any, Any]:
    if type(a) is Decimal or type(b) is Decimal:
        return to_decimal(a), to_decimal(b)
    return a, b


def _arithmetic(lf: Fn, rf: Fn, op: str) -> Fn:
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
            if op == "+":
                return [x + y]
            if op == "-":
                return [x - y]
            if op == "*":
                return [x * y]
            if op == "/":
                if y == 0:
                    return []
                return [to_decimal(x) / to_decimal(y)]
            if op == "div":
                if y == 0:
                    return []
                q = to_decimal(x) / to_decimal(y)
                return [int(q)]
            # mod
            if y == 0:
                return []
            r = math.fmod(x, y) if type(x) is float or type(y) is float else x % y
            if type(x) is int and type(y) is int and (x < 0) != (y < 0) and r:
                r = int(math.fmod(x, y))
            return [r]
        except (InvalidOperation, DivisionByZero, OverflowError):
            return []

    return fn


_SECONDS_PER_UNIT: Final[dict[str, int]] = {
    "week": 7 * 86400, "wk": 7 * 86400, "day": 86400, "d": 86400, "hour": 3600, "h": 3600,
    "minute": 60, "min": 60, "second": 1, "s": 1,
}  # fmt: skip


def _date_add(d: Temporal, q: Quantity, subtract: bool) -> Coll:
    import datetime as dt

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
    import calendar

    day = min(day, calendar.monthrange(y, mo)[1])
    fields = [f"{y:04d}", f"{mo:02d}", f"{day:02d}"][: min(len(parts), 3)]
    text = "-".join(fields)
    if len(parts) > 3:
        text += "T" + ":".join(f"{p:02d}" for p in parts[3:6])
        if d.tz is not None:
            text += "Z"
    result = parse_datetime(text)
    return [] if result is None else [result]


# --- function implementations -------------------------------------------------------

Impl = Fn
Builder = Callable[[Compiler, ast.Call, list[C], list[Pred]], Impl]


def _is_impl(pred: Pred) -> Callable[[Coll], Coll]:
    def impl(items: Coll) -> Coll:
        if not items:
            return []
        if len(items) > 1:
            raise problem("'is' needs a single item")
        return [pred(items[0])]

    return impl


def _filter_impl(pred: Pred) -> Callable[[Coll], Coll]:
    def impl(items: Coll) -> Coll:
        return [it for it in items if pred(it)]

    return impl


def _f_empty(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        return [not inp]

    return impl


def _f_exists(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    if not args:

        def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
            return [bool(inp)]

        return impl
    crit = args[0].fn

    def impl_crit(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        for i, it in enumerate(inp):
            ctx.index = i
            one = [it]
            if to_bool3(crit(ctx, one, one)) is True:
                return [True]
        return [False]

    return impl_crit


def _f_all(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    crit = args[0].fn

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        ctx.spend(len(inp))
        for i, it in enumerate(inp):
            ctx.index = i
            one = [it]
            if to_bool3(crit(ctx, one, one)) is not True:
                return [False]
        return [True]

    return impl


def _bools(inp: Coll, fname: str) -> list[bool]:
    out = []
    for it in inp:
        b = bool_item(it)
        if b is None:
            raise problem(f"{fname}() needs Boolean items")
        out.append(b)
    return out


def _f_all_true(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    name = node.name

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        bs = _bools(inp, name)
        if name == "allTrue":
            return [all(bs)]
        if name == "anyTrue":
            return [any(bs)]
        if name == "allFalse":
            return [not any(bs)]
        return [not all(bs)]

    return impl


def _f_subset(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    other = args[0].fn
    superset = node.name == "supersetOf"

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        o = other(ctx, inp, this)
        small, big = (o, inp) if superset else (inp, o)
        keys = {eq_key(x) for x in big}
        return [all(eq_key(x) in keys for x in small)]

    return impl


def _f_count(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        return [len(inp)]

    return impl


def _f_distinct(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        return dedupe(inp)

    return impl


def _f_is_distinct(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        return [len({eq_key(x) for x in inp}) == len(inp)]

    return impl


def _f_where(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    crit = args[0].fn

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        out: Coll = []
        ctx.spend(len(inp))
        for i, it in enumerate(inp):
            ctx.index = i
            one = [it]
            if to_bool3(crit(ctx, one, one)) is True:
                out.append(it)
        return out

    return impl


def _f_select(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    proj = args[0].fn

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        out: Coll = []
        for i, it in enumerate(inp):
            ctx.index = i
            one = [it]
            got = proj(ctx, one, one)
            ctx.spend(len(got) + 1)
            out.extend(got)
        return out

    return impl


def _identity(it: Any) -> Any:
    if type(it) is tuple and type(it[0]) is dict:
        return ("id", id(it[0]), it[1])
    return eq_key(it)


def _f_repeat(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    proj = args[0].fn

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        out: Coll = []
        seen: set[Any] = set()
        queue = list(inp)
        while queue:
            nxt: Coll = []
            ctx.spend(len(queue))
            for it in queue:
                one = [it]
                for r in proj(ctx, one, one):
                    k = _identity(r)
                    if k not in seen:
                        seen.add(k)
                        out.append(r)
                        nxt.append(r)
            queue = nxt
        return out

    return impl


def _f_aggregate(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    agg = args[0].fn
    init = args[1].fn if len(args) > 1 else None

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        saved = ctx.total
        ctx.total = init(ctx, inp, this) if init is not None else []
        try:
            for i, it in enumerate(inp):
                ctx.index = i
                one = [it]
                ctx.total = agg(ctx, one, one)
            return ctx.total
        finally:
            ctx.total = saved

    return impl


def _f_oftype(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    pred = t[0]
    if node.name == "is":
        check = _is_impl(pred)
    else:
        check = _filter_impl(pred)

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        return check(inp)

    return impl


def _f_subsetting(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    name = node.name
    impl: Impl
    if name == "first":

        def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
            return inp[:1]

    elif name == "last":

        def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
            return inp[-1:]

    elif name == "tail":

        def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
            return inp[1:]

    elif name == "single":

        def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
            if len(inp) > 1:
                raise problem("single() found more than one item")
            return inp

    else:
        nfn = args[0].fn
        take = name == "take"

        def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
            n = single_number(nfn(ctx, inp, this), name + "()")
            if n is None:
                return [] if take else inp
            if type(n) is not int:
                raise problem(f"{name}() needs an Integer")
            if take:
                return inp[: max(n, 0)]
            return inp[max(n, 0) :]

    return impl


def _f_setops(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    name = node.name
    other = args[0].fn

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        o = other(ctx, inp, this)
        if name == "combine":
            return inp + o
        if name == "union":
            return dedupe(inp + o)
        keys = {eq_key(x) for x in o}
        if name == "intersect":
            return dedupe([x for x in inp if eq_key(x) in keys])
        return [x for x in inp if eq_key(x) not in keys]  # exclude

    return impl


def _f_iif(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    crit = args[0].fn
    yes = args[1].fn
    no = args[2].fn if len(args) > 2 else None

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        if len(inp) > 1:
            raise problem("iif() needs at most one input item")
        if to_bool3(crit(ctx, inp, this)) is True:
            return yes(ctx, inp, this)
        return no(ctx, inp, this) if no is not None else []

    return impl


def _single(inp: Coll, fname: str) -> Any:
    if len(inp) > 1:
        raise problem(f"{fname}() needs a single item but got {len(inp)}")
    return inp[0] if inp else None


def _f_convert(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    name = node.name
    converts = name.startswith("convertsTo")
    target = name[10:] if converts else name[2:]

    def convert(it: Any) -> Any:
        if target == "Integer":
            return to_integer(it)
        if target == "Decimal":
            return to_decimal_value(it)
        if target == "String":
            return to_string(it)
        if target == "Boolean":
            v = prim(it)
            if type(v) is bool:
                return v
            if type(v) is str:
                return {"true": True, "t": True, "yes": True, "y": True, "1": True,
                        "1.0": True, "false": False, "f": False, "no": False, "n": False,
                        "0": False, "0.0": False}.get(v.lower())  # fmt: skip
            if type(v) is int:
                return {1: True, 0: False}.get(v)
            return None
        if target in ("Date", "DateTime"):
            v = cmp_value(it)
            if type(v) is Temporal:
                return v
            return parse_datetime(v) if type(v) is str else None
        if target == "Time":
            v = cmp_value(it)
            if type(v) is Temporal and v.kind == TIME_KIND:
                return v
            return parse_time(v) if type(v) is str else None
        if target == "Quantity":
            v = cmp_value(it)
            if type(v) is Quantity:
                return v
            if type(v) in (int, float, Decimal) and type(v) is not bool:
                return Quantity(v, "1")
            return None
        return None  # pragma: no cover

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        it = _single(inp, name)
        if it is None:
            return []
        value = convert(it)
        if converts:
            return [value is not None]
        return [] if value is None else [value]

    return impl


def _string_fn(
    fname: str, nargs: int, op: Callable[..., Any]
) -> Callable[[Compiler, ast.Call, list[C], list[Pred]], Impl]:
    def builder(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
        arg_fns = [a.fn for a in args]
        pre: list[Any] = []
        for a in args:
            pre.append(a.const)

        def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
            s = single_string(inp, fname)
            if s is None:
                return []
            values = []
            for fn, const in zip(arg_fns, pre, strict=True):
                coll = const if const is not None else fn(ctx, inp, this)
                if not coll:
                    return []
                if len(coll) > 1:
                    raise problem(f"{fname}() arguments must be single items")
                values.append(prim(coll[0]))
            result = op(s, *values)
            return [] if result is None else [result]

        return impl

    return builder


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error as exc:
        raise problem("invalid regular expression") from exc


def _s_substring(s: str, start: Any, length: Any = None) -> str | None:
    if type(start) is not int or start < 0 or start >= len(s):
        return None
    if length is None:
        return s[start:]
    if type(length) is not int:
        raise problem("substring() needs Integer arguments")
    return s[start : start + max(length, 0)]


def _s_str(v: Any, fname: str) -> str:
    s = to_string(v)
    if s is None:
        raise problem(f"{fname}() needs a string argument")
    return s


_STRING_OPS: Final[dict[str, tuple[int, int, Callable[..., Any]]]] = {
    "startsWith": (1, 1, lambda s, p: s.startswith(_s_str(p, "startsWith"))),
    "endsWith": (1, 1, lambda s, p: s.endswith(_s_str(p, "endsWith"))),
    "contains": (1, 1, lambda s, p: _s_str(p, "contains") in s),
    "indexOf": (1, 1, lambda s, p: s.find(_s_str(p, "indexOf"))),
    "matches": (1, 1, lambda s, p: _regex(_s_str(p, "matches")).search(s) is not None),
    "replaceMatches": (
        2, 2, lambda s, p, r: _regex(_s_str(p, "replaceMatches")).sub(
            _s_str(r, "replaceMatches").replace("\\", "\\\\"), s
        ),
    ),
    "replace": (2, 2, lambda s, p, r: s.replace(_s_str(p, "replace"), _s_str(r, "replace"))),
    "substring": (1, 2, _s_substring),
    "length": (0, 0, len),
    "upper": (0, 0, str.upper),
    "lower": (0, 0, str.lower),
    "trim": (0, 0, str.strip),
    "toChars": (0, 0, list),
}  # fmt: skip


def _f_tochars(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        s = single_string(inp, "toChars")
        return [] if s is None else list(s)

    return impl


def _f_split(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    sep = args[0].fn

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        s = single_string(inp, "split")
        d = single_string(sep(ctx, inp, this), "split")
        if s is None or d is None:
            return []
        return list(s.split(d)) if d else list(s)

    return impl


def _f_join(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    sep = args[0].fn if args else None

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        d = single_string(sep(ctx, inp, this), "join") if sep is not None else ""
        parts = [to_string(x) for x in inp]
        return [(d or "").join(p for p in parts if p is not None)]

    return impl


def _f_math(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    name = node.name
    arg = args[0].fn if args else None

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
            if name == "abs":
                return [abs(v)]
            if name == "ceiling":
                return [math.ceil(v)]
            if name == "floor":
                return [math.floor(v)]
            if name == "truncate":
                return [math.trunc(v)]
            if name == "round":
                digits = int(p) if p is not None else 0
                return [round(to_decimal(v), digits)]
            if name == "sqrt":
                return [] if v < 0 else [to_decimal(v).sqrt()]
            if name == "exp":
                return [to_decimal(v).exp()]
            if name == "ln":
                return [] if v <= 0 else [to_decimal(v).ln()]
            if name == "log":
                if p is None or v <= 0 or p <= 0 or p == 1:
                    return []
                return [to_decimal(v).ln() / to_decimal(p).ln()]
            if name == "power":
                if p is None:
                    return []
                result = v**p
                return [] if isinstance(result, complex) else [result]
        except (InvalidOperation, OverflowError, ZeroDivisionError, ValueError):
            return []
        return []  # pragma: no cover

    return impl


def _f_not(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        b = to_bool3(inp)
        return [] if b is None else [not b]

    return impl


def _f_children(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    tm = comp.tm
    descend = node.name == "descendants"

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        out: Coll = []
        for it in inp:
            out.extend(children(it, tm))
        if not descend:
            return out
        i = 0
        while i < len(out):
            out.extend(children(out[i], tm))
            i += 1
        ctx.spend(len(out))
        return out

    return impl


def _f_trace(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    name_fn = args[0].fn
    proj = args[1].fn if len(args) > 1 else None

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        hook = ctx.opts.trace
        if hook is not None:
            label = single_string(name_fn(ctx, inp, this), "trace") or ""
            shown = proj(ctx, inp, this) if proj is not None else inp
            hook(label, [_public(x) for x in shown])
        return inp

    return impl


def _public(it: Any) -> Any:
    if type(it) is tuple:
        return it[0] if it[0] is not None else it[2]
    return it


def _f_clock(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    name = node.name

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        if name == "now":
            return [now_datetime()]
        if name == "today":
            return [today_date()]
        return [time_of_day()]

    return impl


def _f_has_value(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        if len(inp) != 1:
            return [False]
        v = prim(inp[0])
        return [v is not None and type(v) is not dict and type(v) is not list]

    return impl


def _f_extension(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    nav = make_nav("extension", comp.tm)
    url_fn = args[0].fn
    const = args[0].const

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        coll = const if const is not None else url_fn(ctx, inp, this)
        url = single_string(coll, "extension")
        if url is None:
            return []
        return [e for e in nav(inp) if type(e[0]) is dict and e[0].get("url") == url]

    return impl


def _f_html_checks(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    check = html_has_content if node.name == "htmlChecks2" else html_checks

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        it = _single(inp, "htmlChecks")
        if it is None:
            return [False]
        v = prim(it)
        if type(v) is dict:
            v = v.get("div")
        return [type(v) is str and check(v)]

    return impl


def _f_member_of(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    vs_fn = args[0].fn

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        hook = ctx.opts.member_of
        it = _single(inp, "memberOf")
        if it is None or hook is None:
            return []
        url = single_string(vs_fn(ctx, inp, this), "memberOf")
        if url is None:
            return []
        answer = hook(_public(it), url)
        return [] if answer is None else [bool(answer)]

    return impl


def _f_conforms_to(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    url_fn = args[0].fn

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        hook = ctx.opts.conforms_to
        it = _single(inp, "conformsTo")
        if it is None or hook is None:
            return []
        url = single_string(url_fn(ctx, inp, this), "conformsTo")
        if url is None:
            return []
        answer = hook(_public(it), url)
        return [] if answer is None else [bool(answer)]

    return impl


def _bundle_index(ctx: Ctx) -> dict[str, Any]:
    idx = ctx.bundle_index
    if idx is not None:
        return idx
    idx = {}
    bundle = ctx.opts.bundle
    if bundle is None and ctx.root is not None and ctx.root[1] == "Bundle":
        bundle = ctx.root[0]
    if type(bundle) is dict:
        for entry in bundle.get("entry") or ():
            if type(entry) is not dict:
                continue
            res = entry.get("resource")
            if type(res) is not dict:
                continue
            full = entry.get("fullUrl")
            if type(full) is str:
                idx.setdefault(full, res)
            rt, rid = res.get("resourceType"), res.get("id")
            if type(rt) is str and type(rid) is str:
                idx.setdefault(f"{rt}/{rid}", res)
    ctx.bundle_index = idx
    return idx


def resolve_reference(ctx: Ctx, ref: str) -> Any:
    """Find the resource a reference points to: contained, in the Bundle, or the hook."""
    if ref.startswith("#"):
        target = ref[1:]
        for holder in (ctx.resource, ctx.root):
            if holder is None or type(holder[0]) is not dict:
                continue
            if not target:
                return holder[0]
            for res in holder[0].get("contained") or ():
                if type(res) is dict and res.get("id") == target:
                    return res
        return None
    idx = _bundle_index(ctx)
    if idx:
        key = ref.split("/_history/", 1)[0]
        found = idx.get(ref) or idx.get(key)
        if found is not None:
            return found
        full = ctx.opts.full_url
        if full and "://" not in key and full.count("/") >= 2:
            base = full.rsplit("/", 2)[0]
            found = idx.get(f"{base}/{key}")
            if found is not None:
                return found
        parts = key.rstrip("/").split("/")
        if len(parts) >= 2:
            found = idx.get(f"{parts[-2]}/{parts[-1]}")
            if found is not None:
                return found
    hook = ctx.opts.resolver
    if hook is not None:
        return hook(ref)
    return None


def _f_resolve(comp: Compiler, node: ast.Call, args: list[C], t: list[Pred]) -> Impl:
    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        out: Coll = []
        for it in inp:
            v = prim(it)
            if type(v) is dict:
                v = v.get("reference")
            if type(v) is not str:
                continue
            found = resolve_reference(ctx, v)
            if found is not None:
                out.append(resource_node(found))
        return out

    return impl


FunctionSpec = tuple[int, int, frozenset[int], bool, Builder]

_L0: Final = frozenset({0})
_NONE: Final[frozenset[int]] = frozenset()

_FUNCTIONS: Final[dict[str, FunctionSpec]] = {
    "empty": (0, 0, _NONE, False, _f_empty),
    "exists": (0, 1, _L0, False, _f_exists),
    "all": (1, 1, _L0, False, _f_all),
    "allTrue": (0, 0, _NONE, False, _f_all_true),
    "anyTrue": (0, 0, _NONE, False, _f_all_true),
    "allFalse": (0, 0, _NONE, False, _f_all_true),
    "anyFalse": (0, 0, _NONE, False, _f_all_true),
    "subsetOf": (1, 1, _NONE, False, _f_subset),
    "supersetOf": (1, 1, _NONE, False, _f_subset),
    "count": (0, 0, _NONE, False, _f_count),
    "distinct": (0, 0, _NONE, False, _f_distinct),
    "isDistinct": (0, 0, _NONE, False, _f_is_distinct),
    "where": (1, 1, _L0, False, _f_where),
    "select": (1, 1, _L0, False, _f_select),
    "repeat": (1, 1, _L0, False, _f_repeat),
    "aggregate": (1, 2, _L0, False, _f_aggregate),
    "ofType": (1, 1, _NONE, False, _f_oftype),
    "is": (1, 1, _NONE, False, _f_oftype),
    "as": (1, 1, _NONE, False, _f_oftype),
    "single": (0, 0, _NONE, False, _f_subsetting),
    "first": (0, 0, _NONE, False, _f_subsetting),
    "last": (0, 0, _NONE, False, _f_subsetting),
    "tail": (0, 0, _NONE, False, _f_subsetting),
    "skip": (1, 1, _NONE, False, _f_subsetting),
    "take": (1, 1, _NONE, False, _f_subsetting),
    "intersect": (1, 1, _NONE, False, _f_setops),
    "exclude": (1, 1, _NONE, False, _f_setops),
    "union": (1, 1, _NONE, False, _f_setops),
    "combine": (1, 1, _NONE, False, _f_setops),
    "iif": (2, 3, _NONE, False, _f_iif),
    "toChars": (0, 0, _NONE, False, _f_tochars),
    "split": (1, 1, _NONE, False, _f_split),
    "join": (0, 1, _NONE, False, _f_join),
    "not": (0, 0, _NONE, False, _f_not),
    "children": (0, 0, _NONE, False, _f_children),
    "descendants": (0, 0, _NONE, False, _f_children),
    "trace": (1, 2, _NONE, True, _f_trace),
    "now": (0, 0, _NONE, True, _f_clock),
    "today": (0, 0, _NONE, True, _f_clock),
    "timeOfDay": (0, 0, _NONE, True, _f_clock),
    "hasValue": (0, 0, _NONE, False, _f_has_value),
    "extension": (1, 1, _NONE, False, _f_extension),
    "htmlChecks": (0, 0, _NONE, False, _f_html_checks),
    "htmlChecks2": (0, 0, _NONE, False, _f_html_checks),
    "memberOf": (1, 1, _NONE, True, _f_member_of),
    "conformsTo": (1, 1, _NONE, True, _f_conforms_to),
    "resolve": (0, 0, _NONE, True, _f_resolve),
}
for _name in (
    "toInteger", "toDecimal", "toString", "toBoolean", "toDate", "toDateTime", "toTime",
    "toQuantity", "convertsToInteger", "convertsToDecimal", "convertsToString",
    "convertsToBoolean", "convertsToDate", "convertsToDateTime", "convertsToTime",
    "convertsToQuantity",
):  # fmt: skip
    _FUNCTIONS[_name] = (0, 1 if _name.endswith("Quantity") else 0, _NONE, False, _f_convert)
for _name, (_lo, _hi, _op) in _STRING_OPS.items():
    if _name == "toChars":
        continue
    _FUNCTIONS[_name] = (_lo, _hi, _NONE, False, _string_fn(_name, _hi, _op))
for _name in ("abs", "ceiling", "floor", "truncate", "sqrt", "exp", "ln"):
    _FUNCTIONS[_name] = (0, 0, _NONE, False, _f_math)
for _name in ("round",):
    _FUNCTIONS[_name] = (0, 1, _NONE, False, _f_math)
for _name in ("log", "power"):
    _FUNCTIONS[_name] = (1, 1, _NONE, False, _f_math)

FUNCTION_NAMES: Final = frozenset(_FUNCTIONS)

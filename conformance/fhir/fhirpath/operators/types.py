"""FHIRPath §6.3 Types: ``is``, ``as`` (operators and functions) and the type tests that
``ofType()`` shares.

FHIR primitives also match the FHIRPath System type they map to (``answer is Boolean``
holds for an ``answerBoolean``), as the HL7 Java engine does.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final

from .._compiled import C, CallSite, FunctionSpec, ObjectTest, Pred, boolean
from .._model import PRIMITIVE_SYSTEM, QUANTITY_TYPES, SYSTEM_TYPES, model
from .._runtime import Coll, Ctx, problem
from .._values import DATE_KIND, DATETIME_KIND, TIME_KIND, Quantity, Temporal

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
    """Predicate for ``is T`` (T or a subtype); None when T is not a known type."""
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


def is_impl(pred: Pred) -> Callable[[Coll], bool | None]:
    """``is``: empty for no item, an error for several, else whether the item matches."""

    def impl(items: Coll) -> bool | None:
        if not items:
            return None
        if len(items) > 1:
            raise problem("'is' needs a single item")
        return pred(items[0])

    return impl


def filter_impl(pred: Pred) -> Callable[[Coll], Coll]:
    """``as`` and ``ofType``: the items that match (the Java engine filters for ``as``
    too rather than failing on several items)."""

    def impl(items: Coll) -> Coll:
        return [it for it in items if pred(it)]

    return impl


def type_operator(op: str, operand: C, pred: Pred) -> C:
    """``operand is T`` / ``operand as T``."""
    ofn = operand.fn
    deps = operand.deps
    if op == "is":
        check = is_impl(pred)

        def test(ctx: Ctx, focus: Coll, this: Coll) -> bool | None:
            return check(ofn(ctx, focus, this))

        obj_test: ObjectTest | None = None
        if operand.obj is not None:
            oobj = operand.obj

            def obj_test(v: dict[str, Any]) -> bool | None:
                return check(oobj(v))

        return boolean(test, deps, obj_test=obj_test)
    keep = filter_impl(pred)

    def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
        return keep(ofn(ctx, focus, this))

    return C(fn, deps)


def _is(site: CallSite) -> C:
    check = is_impl(site.types[0])
    return site.chain_test(lambda ctx, inp, this: check(inp))


def _as(site: CallSite) -> C:
    keep = filter_impl(site.types[0])
    return site.chain(lambda ctx, inp, this: keep(inp))


FUNCTIONS: Final[dict[str, FunctionSpec]] = {
    "is": FunctionSpec(_is, 1, type_args=True),
    "as": FunctionSpec(_as, 1, type_args=True),
}

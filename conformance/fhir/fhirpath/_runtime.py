"""Run-time support shared by compiled expressions: items, equality, ordering, conversion.

Items in a collection are either *element nodes* -- ``(json_value, fhir_type, ext)``
tuples for data taken from the resource, where ``ext`` is the ``_name`` sibling object of a
primitive (id/extension) -- or plain FHIRPath system values computed by the expression
(``bool``, ``int``, ``Decimal``/``float``, ``str``, :class:`Temporal`, :class:`Quantity`).
Tuples are cheap to build, and no system value is ever a tuple.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

import orjson

from ._model import DATE_TYPES, QUANTITY_TYPES
from ._parser import FhirPathError
from ._values import (
    TIME_KIND,
    Quantity,
    Temporal,
    format_number,
    parse_datetime,
    parse_time,
    quantity_compare,
    temporal_compare,
    temporal_equal,
    temporal_equivalent,
    to_decimal,
)

ElementNode = tuple[Any, str | None, dict[str, Any] | None]
Coll = list[Any]


class FhirPathEvaluationError(FhirPathError):
    """An expression failed on particular input (e.g. a type error); a finding, not a bug.

    The message names the expression and the problem, never values from the input.
    """

    def __init__(self, message: str, expression: str = ""):
        self.expression = expression
        self.position = None
        self.detail = message
        Exception.__init__(self, f"{message} in FHIRPath expression {expression!r}")


class _EvalProblem(Exception):
    """Raised inside evaluation; converted to FhirPathEvaluationError at the boundary."""


def problem(message: str) -> _EvalProblem:
    return _EvalProblem(message)


EvalProblem = _EvalProblem


@dataclass(frozen=True, slots=True)
class EvaluationOptions:
    """Optional hooks and values for evaluation.

    ``variables``: extra ``%name`` constants (JSON values or lists of them).
    ``trace``: called as ``trace(name, values)`` by ``trace()``; default: ignored.
    ``member_of``: ``member_of(value, valueset_url) -> bool | None`` for ``memberOf()``;
    without it (or when it returns None) ``memberOf`` is empty (unknown).
    ``conforms_to``: ``conforms_to(resource_json, profile_url) -> bool | None``.
    ``resolver``: ``resolver(reference) -> resource JSON | None`` for references that are
    neither contained nor in the Bundle.
    ``bundle``: the enclosing Bundle (JSON) so ``resolve()`` can find entries by fullUrl.
    ``full_url``: fullUrl of the entry being evaluated (resolves relative references).
    """

    variables: Mapping[str, Any] = field(default_factory=dict)
    trace: Callable[[str, list[Any]], None] | None = None
    member_of: Callable[[Any, str], bool | None] | None = None
    conforms_to: Callable[[Any, str], bool | None] | None = None
    resolver: Callable[[str], Any] | None = None
    bundle: Any = None
    full_url: str | None = None


DEFAULT_OPTIONS: Final = EvaluationOptions()


COST_BUDGET = 2_000_000
"""Items one evaluation may produce in its iterating functions (select, where, repeat,
descendants...). Expressions come from standards and profiles, which are data: a costly
one must end in an evaluation error, not run for minutes."""


class Ctx:
    """Per-evaluation state: environment nodes, options, memo of focus-free subresults.

    ``resource`` and ``root`` (``%resource``, ``%rootResource``) are element nodes; a
    context made fresh with :meth:`reset_json` builds them from the JSON only when an
    expression reads them, so evaluating ``reference.startsWith('#').not() or ...``
    pays nothing for ``%rootResource`` in the branch it does not take.
    """

    __slots__ = (
        "_ready",
        "_resource",
        "_resource_json",
        "_root",
        "_root_json",
        "budget",
        "bundle_index",
        "context",
        "index",
        "memo",
        "opts",
        "total",
    )

    def spend(self, items: int) -> None:
        """Charge ``items`` to this evaluation's cost budget (see :data:`COST_BUDGET`)."""
        self.budget -= items
        if self.budget < 0:
            raise _EvalProblem(f"evaluation exceeded its cost budget of {COST_BUDGET} items")

    def __init__(
        self,
        resource: ElementNode | None,
        root: ElementNode | None,
        context: Any,
        opts: EvaluationOptions,
    ):
        self._resource = resource
        self._root = root
        self._resource_json: Any = None
        self._root_json: Any = None
        self._ready = True
        self.context = context
        self.opts = opts
        self.memo: dict[str, Coll] = {}
        self.index = 0
        self.total: Coll = []
        self.bundle_index: dict[str, Any] | None = None
        self.budget = COST_BUDGET

    def reset_json(self, resource: Any, root: Any, context: Any, opts: EvaluationOptions) -> None:
        """Make a used context fresh for another evaluation (cheaper than a new one):
        ``%resource`` is the JSON ``resource``, ``%rootResource`` is ``root`` (default the
        resource)."""
        self._resource_json = resource
        self._root_json = root
        self._ready = False
        self.context = context
        self.opts = opts
        if self.memo:
            self.memo = {}
        self.index = 0
        self.bundle_index = None
        self.budget = COST_BUDGET

    def _build(self) -> None:
        res = self._resource_json
        node = None if res is None else resource_node(res)
        root = self._root_json
        self._resource = node
        self._root = node if root is None else resource_node(root)
        self._ready = True

    @property
    def resource(self) -> ElementNode | None:
        if not self._ready:
            self._build()
        return self._resource

    @property
    def root(self) -> ElementNode | None:
        if not self._ready:
            self._build()
        return self._root


UNUSED_CONTEXT: Final = Ctx(None, None, [], DEFAULT_OPTIONS)
"""The context passed to expressions that never read or write one (``Deps.ctx`` false):
shared, so evaluating them makes none. Nothing ever changes it."""

NOTHING: Final[Coll] = []
"""``$this`` for forms evaluated where nothing reads it; never changed."""


# --- element nodes ----------------------------------------------------------------------


def resource_node(value: Any) -> ElementNode:
    if type(value) is dict:
        rt = value.get("resourceType")
        return (value, rt if type(rt) is str else None, None)
    return (value, None, None)


def unwrap(it: Any) -> Any:
    """The public form of an item: the JSON value of element nodes, system values as is."""
    if type(it) is tuple:
        v = it[0]
        if v is None:
            return it[2]
        return v
    return it


def quantity_of(v: dict[str, Any]) -> Quantity | None:
    value = v.get("value")
    if value is None or type(value) is bool:
        return None
    unit = v.get("code")
    if unit is None or (v.get("system") not in (None, "http://unitsofmeasure.org")):
        unit = v.get("unit", unit)
    return Quantity(value, str(unit) if unit is not None else "1")


def cmp_value(it: Any) -> Any:
    """The value used by comparison/equality (dates parsed, quantities built)."""
    if type(it) is tuple:
        v, t, _ = it
        tv = type(v)
        if tv is str:
            if t in DATE_TYPES:
                return parse_datetime(v) or v
            if t == "time":
                return parse_time(v) or v
            return v
        if tv is dict and t in QUANTITY_TYPES:
            return quantity_of(v)
        return v
    return it


_NUMBERS: Final = (int, float, Decimal)


def _is_number(x: Any) -> bool:
    t = type(x)
    return t is int or t is float or t is Decimal


def _as_temporal(text: str, like: Temporal) -> Temporal | None:
    if like.kind == TIME_KIND:
        return parse_time(text[1:] if text.startswith("T") else text)
    return parse_datetime(text)


def equal(a: Any, b: Any) -> bool | None:
    """FHIRPath ``=`` on two items; None means unknown (empty result)."""
    if type(a) is tuple and type(b) is tuple:
        v = a[0]
        if v is b[0] and type(v) is dict and a[1] not in QUANTITY_TYPES:
            return True  # one element compared with itself ($this = %resource)
    a = cmp_value(a)
    b = cmp_value(b)
    if a is None or b is None:
        return None
    ta = type(a)
    tb = type(b)
    if ta is tb and ta is not Temporal and ta is not Quantity:
        return bool(a == b)
    if ta is bool or tb is bool:
        return False
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if ta is Temporal:
        if tb is str:
            b = _as_temporal(b, a)
            if b is None:
                return False
        elif tb is not Temporal:
            return False
        return temporal_equal(a, b)
    if tb is Temporal:
        if ta is str:
            a = _as_temporal(a, b)
            if a is None:
                return False
            return temporal_equal(a, b)
        return False
    if ta is Quantity and tb is Quantity:
        c = quantity_compare(a, b)
        return None if c is None else c == 0
    return False


_WS: Final = re.compile(r"\s+")


def _norm_text(s: str) -> str:
    return _WS.sub(" ", s.strip()).lower()


def equivalent(a: Any, b: Any) -> bool:
    """FHIRPath ``~`` on two items."""
    a = cmp_value(a)
    b = cmp_value(b)
    if a is None or b is None:
        return a is None and b is None
    ta = type(a)
    tb = type(b)
    if ta is str and tb is str:
        return _norm_text(a) == _norm_text(b)
    if ta is bool or tb is bool:
        return a is b
    if _is_number(a) and _is_number(b):
        da, db = to_decimal(a), to_decimal(b)
        exp = max(da.as_tuple().exponent, db.as_tuple().exponent)
        q = Decimal(1).scaleb(int(exp))
        return da.quantize(q) == db.quantize(q)
    if ta is Temporal and tb is Temporal:
        return temporal_equivalent(a, b)
    if ta is Quantity and tb is Quantity:
        return quantity_compare(a, b) == 0
    if ta is dict and tb is dict:
        return _dict_equivalent(a, b)
    return bool(a == b)


def _dict_equivalent(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = (set(a) | set(b)) - {"id", "extension"}
    for k in keys:
        x, y = a.get(k), b.get(k)
        if type(x) is list and type(y) is list:
            if len(x) != len(y):
                return False
            if not all(equivalent(p, q) for p, q in zip(x, y, strict=True)):
                return False
        elif not equivalent(x, y):
            return False
    return True


def type_label(x: Any) -> str:
    if type(x) is tuple:
        return str(x[1] or "element")
    if type(x) is bool:
        return "Boolean"
    if type(x) is int:
        return "Integer"
    if type(x) in (float, Decimal):
        return "Decimal"
    if type(x) is str:
        return "String"
    if type(x) is Temporal:
        return {"date": "Date", "dateTime": "DateTime"}.get(x.kind, "Time")
    if type(x) is Quantity:
        return "Quantity"
    if type(x) is dict:
        return str(x.get("resourceType") or "element")
    return type(x).__name__


def compare(a: Any, b: Any) -> int | None:
    """Ordering of two items: -1/0/1, None when unknown; raises on incomparable types."""
    if type(a) is int and type(b) is int:  # computed Integers (count(), length())
        return 0 if a == b else (-1 if a < b else 1)
    x = cmp_value(a)
    y = cmp_value(b)
    if x is None or y is None:
        return None
    tx = type(x)
    ty = type(y)
    if tx is not bool and ty is not bool and _is_number(x) and _is_number(y):
        return 0 if x == y else (-1 if x < y else 1)
    if tx is str and ty is str:
        return 0 if x == y else (-1 if x < y else 1)
    if tx is Temporal or ty is Temporal:
        if tx is str:
            x = _as_temporal(x, y)
        elif ty is str:
            y = _as_temporal(y, x)
        if type(x) is Temporal and type(y) is Temporal:
            return temporal_compare(x, y)
    if tx is Quantity and ty is Quantity:
        return quantity_compare(x, y)
    raise problem(f"cannot compare {type_label(a)} with {type_label(b)}")


def eq_key(it: Any) -> Any:
    """A hashable key such that equal items (per FHIRPath ``=``) get equal keys."""
    v = cmp_value(it)
    tv = type(v)
    if tv is str:
        return v
    if tv is bool:
        return ("b", v)
    if tv is int or tv is float or tv is Decimal:
        return ("n", v)
    if tv is dict:
        return ("o", orjson.dumps(v, option=orjson.OPT_SORT_KEYS))
    if tv is Temporal:
        return ("t", v.kind == TIME_KIND, v.parts)
    if tv is Quantity:
        return ("q", v.value, v.unit)
    if v is None:
        return ("x", id(it))
    return ("?", repr(v))


def dedupe(items: Coll) -> Coll:
    seen: set[Any] = set()
    out: Coll = []
    for it in items:
        k = eq_key(it)
        if k not in seen:
            seen.add(k)
            out.append(it)
    return out


# --- conversions ----------------------------------------------------------------------


def to_bool3(coll: Coll) -> bool | None:
    """Singleton evaluation as Boolean: empty -> None, one item -> its truth."""
    if not coll:
        return None
    if len(coll) == 1:
        x = coll[0]
        if type(x) is tuple:
            x = x[0]
        if x is True or x is False:
            return x
        return True
    raise problem("a collection of more than one item was used as a Boolean")


def prim(it: Any) -> Any:
    """Primitive value of an item (JSON value of an element node)."""
    if type(it) is tuple:
        return it[0]
    return it


def to_string(it: Any) -> str | None:
    v = prim(it)
    tv = type(v)
    if tv is str:
        return str(v)
    if tv is bool:
        return "true" if v else "false"
    if tv is int or tv is float or tv is Decimal:
        return format_number(v)
    if tv is Temporal:
        return str(v.text)
    if tv is Quantity:
        return str(v.to_string())
    if tv is dict and type(it) is tuple and it[1] in QUANTITY_TYPES:
        q = quantity_of(v)
        return q.to_string() if q is not None else None
    return None


def single_string(coll: Coll, fname: str) -> str | None:
    if not coll:
        return None
    if len(coll) > 1:
        raise problem(f"{fname}() needs a single item but got {len(coll)}")
    it = coll[0]
    v = it[0] if type(it) is tuple else it
    if type(v) is str:
        return v
    s = to_string(it)
    if s is None and prim(coll[0]) is not None:
        raise problem(f"{fname}() needs a string but got {type_label(coll[0])}")
    return s


_INT_RE: Final = re.compile(r"[+-]?\d+")
_DEC_RE: Final = re.compile(r"[+-]?\d+(\.\d+)?")


def to_integer(it: Any) -> int | None:
    v = prim(it)
    tv = type(v)
    if tv is int:
        return int(v)
    if tv is bool:
        return 1 if v else 0
    if tv is str and _INT_RE.fullmatch(v):
        return int(v)
    return None


def to_decimal_value(it: Any) -> Decimal | None:
    v = prim(it)
    tv = type(v)
    if tv is bool:
        return Decimal(1 if v else 0)
    if tv is int or tv is float or tv is Decimal:
        return to_decimal(v)
    if tv is str and _DEC_RE.fullmatch(v):
        return Decimal(v)
    return None


def single_number(coll: Coll, what: str) -> Any:
    if not coll:
        return None
    if len(coll) > 1:
        raise problem(f"{what} needs a single item but got {len(coll)}")
    v = cmp_value(coll[0])
    if type(v) is bool or not _is_number(v):
        if type(v) is Quantity:
            return v
        raise problem(f"{what} needs a number but got {type_label(coll[0])}")
    return v


def bool_item(it: Any) -> bool | None:
    v = prim(it)
    if v is True or v is False:
        return bool(v)
    return None

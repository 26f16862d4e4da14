"""Path navigation over FHIR JSON (FHIRPath §3, Path selection; §5.8 tree navigation).

``member(name)`` gives the closures for ``.name`` over a collection: the items it selects
(``fn``), whether it selects any (``exists``/``empty``) and how many (``count``). The
last three walk the same plan as ``fn`` but build nothing and stop as soon as the answer
is known, so ``a.b.exists()`` or ``code.empty()`` cost a few dictionary look-ups. Choice
elements (``value`` -> ``valueQuantity``) and primitives' ``_name`` extension siblings are
handled per the FHIR JSON format, with each item's FHIR type tracked from the model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Final

from ._compiled import Count, Exists, Fn
from ._model import RESOURCE_TYPES_ABSTRACT, Entry, Plan, TypeModel
from ._runtime import Coll, Ctx, ElementNode

_SKIPPED_KEYS: Final = frozenset({"resourceType", "fhir_comments"})


# --- the items of one JSON property ------------------------------------------------------


def emit(out: Coll, cv: Any, ct: str | None, ce: Any) -> None:
    """Append the node(s) for JSON value ``cv`` (maybe a list) with sibling ``ce``."""
    if type(cv) is list:
        if type(ce) is list:
            nce = len(ce)
            for i, a in enumerate(cv):
                e = ce[i] if i < nce else None
                if a is None and e is None:
                    continue
                out.append(_node(a, ct, e if type(e) is dict else None))
            for e in ce[len(cv) :]:
                if type(e) is dict:
                    out.append((None, ct, e))
        else:
            for a in cv:
                if a is not None:
                    out.append(_node(a, ct, None))
    elif cv is None:
        if type(ce) is list:
            for e in ce:
                if type(e) is dict:
                    out.append((None, ct, e))
        elif type(ce) is dict:
            out.append((None, ct, ce))
    else:
        out.append(_node(cv, ct, ce if type(ce) is dict else None))


def emit_count(cv: Any, ce: Any) -> int:
    """How many items :func:`emit` appends for ``cv`` and ``ce``."""
    n = 0
    if type(cv) is list:
        if type(ce) is list:
            nce = len(ce)
            for i, a in enumerate(cv):
                if a is not None or (i < nce and ce[i] is not None):
                    n += 1
            for e in ce[len(cv) :]:
                if type(e) is dict:
                    n += 1
        else:
            for a in cv:
                if a is not None:
                    n += 1
        return n
    if cv is None:
        if type(ce) is list:
            for e in ce:
                if type(e) is dict:
                    n += 1
            return n
        return 1 if type(ce) is dict else 0
    return 1


def emit_any(cv: Any, ce: Any) -> bool:
    """Whether :func:`emit` appends anything for ``cv`` and ``ce``."""
    if type(cv) is list:
        if type(ce) is list:
            nce = len(ce)
            for i, a in enumerate(cv):
                if a is not None or (i < nce and ce[i] is not None):
                    return True
            for e in ce[len(cv) :]:  # noqa: SIM110 - a plain loop is faster here
                if type(e) is dict:
                    return True
            return False
        for a in cv:  # noqa: SIM110
            if a is not None:
                return True
        return False
    if cv is None:
        if type(ce) is list:
            for e in ce:  # noqa: SIM110
                if type(e) is dict:
                    return True
            return False
        return type(ce) is dict
    return True


def _node(value: Any, ct: str | None, ext: dict[str, Any] | None) -> ElementNode:
    if type(value) is dict and (ct is None or ct in RESOURCE_TYPES_ABSTRACT):
        rt = value.get("resourceType")
        if type(rt) is str:
            return (value, rt, None)
    return (value, ct, ext)


# --- member navigation -------------------------------------------------------------------


def candidates(plan: Plan, v: dict[str, Any]) -> Sequence[Entry]:
    """The entries of ``plan`` worth reading in ``v``, in the plan's order.

    A choice element has many candidates (``value[x]``: fifty); an object has few keys.
    Reading only the candidates whose key or sibling key ``v`` has gives the same items
    in the same order: the others select nothing.
    """
    entries = plan.entries
    if not plan.scan or len(v) >= len(entries):
        return entries
    index = plan.index
    hits = [index[k] for k in v if k in index]
    if not hits:
        return ()
    if len(hits) == 1:
        return (entries[hits[0]],)
    return [entries[i] for i in sorted(set(hits))]


def select(out: Coll, plan: Plan, v: dict[str, Any]) -> None:
    """Append the items ``plan`` selects from the JSON object ``v``."""
    for key, ukey, ct in candidates(plan, v) if plan.scan else plan.entries:
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


def selected(plan: Plan, v: dict[str, Any]) -> Coll:
    """The items ``plan`` selects from ``v``, as a new list."""
    out: Coll = []
    select(out, plan, v)
    return out


def present(plan: Plan, v: dict[str, Any]) -> bool:
    """Whether ``plan`` selects anything from ``v`` (``bool`` of :func:`select`)."""
    for key, ukey, _ in candidates(plan, v) if plan.scan else plan.entries:
        cv = v.get(key)
        if ukey is None:
            if cv is not None and (type(cv) is not list or emit_any(cv, None)):
                return True
            continue
        ce = v.get(ukey)
        if cv is None and ce is None:
            continue
        if type(cv) is list or type(ce) is list or type(cv) is dict:
            if emit_any(cv, ce):
                return True
        else:
            return True
    return False


def absent(plan: Plan, v: dict[str, Any]) -> bool:
    """``not present(plan, v)``."""
    return not present(plan, v)


def selected_count(plan: Plan, v: dict[str, Any]) -> int:
    """How many items ``plan`` selects from ``v`` (``len`` of :func:`select`)."""
    n = 0
    for key, ukey, _ in candidates(plan, v) if plan.scan else plan.entries:
        cv = v.get(key)
        if ukey is None:
            if cv is not None:
                n += 1 if type(cv) is dict else emit_count(cv, None)
            continue
        ce = v.get(ukey)
        if cv is None and ce is None:
            continue
        if type(cv) is list or type(ce) is list or type(cv) is dict:
            n += emit_count(cv, ce)
        else:
            n += 1
    return n


def _on_primitive(out: Coll, x: dict[str, Any], want_ext: bool, want_id: bool) -> None:
    """``.extension`` / ``.id`` of a primitive: read from its ``_name`` sibling."""
    if want_ext:
        emit(out, x.get("extension"), "Extension", None)
    elif want_id and "id" in x:
        out.append((x["id"], "string", None))


ObjectItems = Callable[[dict[str, Any]], Coll]
ObjectTest = Callable[[dict[str, Any]], bool]


class Member:
    """``.name`` over a collection: its collection, existence and count forms.

    The plan (which JSON keys to read, with which FHIR types) depends on each item's
    type; it is computed once per type and kept here. When the compiler knows the type
    of the items (``scope``), their plan is ready, ``item_type`` is the type of every item
    selected when that is certain, and ``of_object``/``in_object`` select from, or test,
    a single JSON object of that type directly, with no collection around it.
    """

    def __init__(self, name: str, tm: TypeModel, scope: str | None = None) -> None:
        self.name = name
        self.fn: Fn
        self.exists: Exists
        self.empty: Exists
        self.count: Count
        self.item_type: str | None = None
        self.of_object: ObjectItems | None = None
        self.in_object: ObjectTest | None = None
        self.not_in_object: ObjectTest | None = None
        plans: dict[str | None, Plan] = {}
        plan_for = tm.plan
        want_ext = name == "extension"
        want_id = name == "id"

        def plan_of(t: str | None) -> Plan:
            plan = plans[t] = plan_for(t, name)
            return plan

        def fn(ctx: Ctx, items: Coll, this: Coll) -> Coll:
            out: Coll = []
            for it in items:
                if type(it) is not tuple:
                    continue
                v = it[0]
                if type(v) is dict:
                    plan = plans.get(it[1]) or plan_of(it[1])
                    select(out, plan, v)
                elif it[2] is not None:
                    _on_primitive(out, it[2], want_ext, want_id)
            return out

        def count(ctx: Ctx, items: Coll, this: Coll) -> int:
            n = 0
            for it in items:
                if type(it) is not tuple:
                    continue
                v = it[0]
                if type(v) is dict:
                    plan = plans.get(it[1]) or plan_of(it[1])
                    n += selected_count(plan, v)
                elif it[2] is not None:
                    x = it[2]
                    if want_ext:
                        n += emit_count(x.get("extension"), None)
                    elif want_id and "id" in x:
                        n += 1
            return n

        def exists(ctx: Ctx, items: Coll, this: Coll) -> bool:
            for it in items:
                if type(it) is not tuple:
                    continue
                v = it[0]
                if type(v) is dict:
                    plan = plans.get(it[1]) or plan_of(it[1])
                    if present(plan, v):
                        return True
                elif it[2] is not None:
                    x = it[2]
                    if want_ext:
                        if emit_any(x.get("extension"), None):
                            return True
                    elif want_id and "id" in x:
                        return True
            return False

        def empty(ctx: Ctx, items: Coll, this: Coll) -> bool:
            return not exists(ctx, items, this)

        self.fn = fn
        self.count = count
        self.exists = exists
        self.empty = empty
        if scope is None:
            return
        plan0 = plans[scope] = plan_for(scope, name)
        if len(plan0.entries) == 1:
            ct = plan0.entries[0][2]
            if ct is not None and ct not in RESOURCE_TYPES_ABSTRACT:
                self.item_type = ct

        self.of_object = partial(selected, plan0)
        self.in_object = partial(present, plan0)
        self.not_in_object = partial(absent, plan0)


# --- children ----------------------------------------------------------------------------


def children(it: Any, model: TypeModel) -> Coll:
    """FHIRPath ``children()`` of one item."""
    out: Coll = []
    if type(it) is not tuple:
        return out
    v, t, x = it
    if type(v) is not dict:
        if x is not None:
            if "id" in x:
                out.append((x["id"], "string", None))
            emit(out, x.get("extension"), "Extension", None)
        return out
    table = model.elements.get(t) if t is not None else None
    for k, cv in v.items():
        if k in _SKIPPED_KEYS:
            continue
        if k[:1] == "_":
            stem = k[1:]
            if stem in v:
                continue
            emit(out, None, table.get(stem) if table else None, cv)
            continue
        ct = table.get(k) if table else None
        if type(cv) is dict or (type(cv) is list and cv and type(cv[0]) is dict):
            emit(out, cv, ct, None)
        else:
            emit(out, cv, ct, v.get("_" + k))
    return out


def children_count(it: Any) -> int:
    """``len(children(it))`` without building the items (their types do not matter)."""
    if type(it) is not tuple:
        return 0
    v, _, x = it
    if type(v) is not dict:
        if x is None:
            return 0
        return ("id" in x) + emit_count(x.get("extension"), None)
    n = 0
    for k, cv in v.items():
        if k in _SKIPPED_KEYS:
            continue
        if k[:1] == "_":
            if k[1:] not in v:
                n += emit_count(None, cv)
            continue
        if type(cv) is dict or (type(cv) is list and cv and type(cv[0]) is dict):
            n += emit_count(cv, None)
        else:
            n += emit_count(cv, v.get("_" + k))
    return n

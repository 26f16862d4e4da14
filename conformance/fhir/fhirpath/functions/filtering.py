"""FHIRPath §5.2 Filtering and projection: where, select, repeat, ofType.

``where(criteria)`` is fused with what follows and with its criteria: the criteria are
evaluated on each item's JSON object directly when they have an object form (see
:class:`.._compiled.C`), with no one-item focus collection per item, and
``x.where(c).exists()`` / ``.count()`` evaluate ``c`` on every item exactly as
``where`` does (same calls, same errors) but build no filtered collection.
"""

from __future__ import annotations

from typing import Any, Final

from .._compiled import EACH, C, CallSite, FunctionSpec
from .._runtime import Coll, Ctx, eq_key
from ..operators.types import filter_impl


def _where(site: CallSite) -> C:
    crit = site.args[0].test
    crit_obj = site.args[0].obj_test
    scope = site.input_type
    source = site.input

    def matches(ctx: Ctx, items: Coll, keep: Coll | None) -> int:
        """Evaluate the criteria on every item; count the matches (kept in ``keep``)."""
        n = 0
        ctx.spend(len(items))
        for i, it in enumerate(items):
            if crit_obj is not None and type(it) is tuple and it[1] == scope:
                v = it[0]
                if type(v) is dict:
                    r = crit_obj(v)
                else:
                    ctx.index = i
                    one = [it]
                    r = crit(ctx, one, one)
            else:
                ctx.index = i
                one = [it]
                r = crit(ctx, one, one)
            if r is True:
                n += 1
                if keep is not None:
                    keep.append(it)
        return n

    def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
        out: Coll = []
        matches(ctx, source(ctx, focus, this), out)
        return out

    def count(ctx: Ctx, focus: Coll, this: Coll) -> int:
        return matches(ctx, source(ctx, focus, this), None)

    def exists(ctx: Ctx, focus: Coll, this: Coll) -> bool:
        return matches(ctx, source(ctx, focus, this), None) > 0

    return C(fn, site.deps(ctx=True), exists=exists, count=count, item_type=scope)


def _select(site: CallSite) -> C:
    proj = site.args[0].fn

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        out: Coll = []
        for i, it in enumerate(inp):
            ctx.index = i
            one = [it]
            got = proj(ctx, one, one)
            ctx.spend(len(got) + 1)
            out.extend(got)
        return out

    return site.chain(impl, ctx=True)


def _identity(it: Any) -> Any:
    if type(it) is tuple and type(it[0]) is dict:
        return ("id", id(it[0]), it[1])
    return eq_key(it)


def _repeat(site: CallSite) -> C:
    proj = site.args[0].fn

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

    return site.chain(impl, ctx=True)


def _of_type(site: CallSite) -> C:
    keep = filter_impl(site.types[0])
    return site.chain(lambda ctx, inp, this: keep(inp), same_items=True)


FUNCTIONS: Final[dict[str, FunctionSpec]] = {
    "where": FunctionSpec(_where, 1, per_item=EACH),
    "select": FunctionSpec(_select, 1, per_item=EACH),
    "repeat": FunctionSpec(_repeat, 1, per_item=EACH),
    "ofType": FunctionSpec(_of_type, 1, type_args=True),
}

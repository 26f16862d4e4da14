"""FHIRPath §5.8 Tree navigation: children() and descendants().

``children().count()`` counts without building the children (the shape of ``ele-1``,
which runs on every element).
"""

from __future__ import annotations

from typing import Final

from .._compiled import C, CallSite, FunctionSpec
from .._model import TypeModel
from .._navigation import children, children_count
from .._runtime import Coll, Ctx


def _children_of(inp: Coll, tm: TypeModel) -> Coll:
    out: Coll = []
    for it in inp:
        out.extend(children(it, tm))
    return out


def _children(site: CallSite) -> C:
    tm = site.tm

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        return _children_of(inp, tm)

    source = site.input

    def count(ctx: Ctx, focus: Coll, this: Coll) -> int:
        n = 0
        for it in source(ctx, focus, this):
            n += children_count(it)
        return n

    return C(site.chained(impl), site.deps(), count=count)


def _descendants(site: CallSite) -> C:
    tm = site.tm

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        out = _children_of(inp, tm)
        i = 0
        while i < len(out):
            out.extend(children(out[i], tm))
            i += 1
        ctx.spend(len(out))
        return out

    return site.chain(impl, ctx=True)


FUNCTIONS: Final[dict[str, FunctionSpec]] = {
    "children": FunctionSpec(_children),
    "descendants": FunctionSpec(_descendants),
}

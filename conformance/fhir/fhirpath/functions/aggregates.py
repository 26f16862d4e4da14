"""FHIRPath §7 Aggregates: aggregate(aggregator [, init]) with ``$total``."""

from __future__ import annotations

from typing import Final

from .._compiled import EACH, C, CallSite, FunctionSpec
from .._runtime import Coll, Ctx


def _aggregate(site: CallSite) -> C:
    agg = site.args[0].fn
    init = site.args[1].fn if len(site.args) > 1 else None

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

    return site.chain(impl, ctx=True)


FUNCTIONS: Final[dict[str, FunctionSpec]] = {
    "aggregate": FunctionSpec(_aggregate, 1, 2, per_item=EACH),
}

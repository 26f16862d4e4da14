"""FHIRPath §5.4 Combining: union (duplicates removed) and combine (kept)."""

from __future__ import annotations

from typing import Final

from .._compiled import C, CallSite, FunctionSpec
from .._runtime import Coll, Ctx, dedupe


def _combining(site: CallSite) -> C:
    other = site.args[0].fn
    union = site.name == "union"

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        both = inp + other(ctx, inp, this)
        return dedupe(both) if union else both

    return site.chain(impl)


FUNCTIONS: Final[dict[str, FunctionSpec]] = {
    "union": FunctionSpec(_combining, 1),
    "combine": FunctionSpec(_combining, 1),
}

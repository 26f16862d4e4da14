"""FHIRPath §5.3 Subsetting: the indexer ``[n]``, single, first, last, tail, skip, take,
intersect, exclude."""

from __future__ import annotations

from typing import Final

from .._compiled import C, CallSite, Fn, FunctionSpec
from .._runtime import Coll, Ctx, dedupe, eq_key, problem, single_number


def indexer(base: C, index: C) -> C:
    """``base[index]``: the item at a 0-based Integer index, empty when out of range."""
    bfn, ifn = base.fn, index.fn

    def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
        items = bfn(ctx, focus, this)
        i = single_number(ifn(ctx, focus, this), "an indexer")
        if i is None:
            return []
        if type(i) is not int:
            raise problem("an indexer needs an Integer")
        return [items[i]] if 0 <= i < len(items) else []

    return C(fn, base.deps | index.deps)


def _single(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
    if len(inp) > 1:
        raise problem("single() found more than one item")
    return inp


_SLICES: Final[dict[str, Fn]] = {
    "first": lambda ctx, inp, this: inp[:1],
    "last": lambda ctx, inp, this: inp[-1:],
    "tail": lambda ctx, inp, this: inp[1:],
    "single": _single,
}


def _slice(site: CallSite) -> C:
    return site.chain(_SLICES[site.name], same_items=True)


def _skip_take(site: CallSite) -> C:
    name = site.name
    nfn = site.args[0].fn
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

    return site.chain(impl, same_items=True)


def _intersect_exclude(site: CallSite) -> C:
    other = site.args[0].fn
    intersect = site.name == "intersect"

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        keys = {eq_key(x) for x in other(ctx, inp, this)}
        if intersect:
            return dedupe([x for x in inp if eq_key(x) in keys])
        return [x for x in inp if eq_key(x) not in keys]

    return site.chain(impl, same_items=True)


FUNCTIONS: Final[dict[str, FunctionSpec]] = {
    **{name: FunctionSpec(_slice) for name in _SLICES},
    "skip": FunctionSpec(_skip_take, 1),
    "take": FunctionSpec(_skip_take, 1),
    "intersect": FunctionSpec(_intersect_exclude, 1),
    "exclude": FunctionSpec(_intersect_exclude, 1),
}

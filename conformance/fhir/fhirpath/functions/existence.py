"""FHIRPath §5.1 Existence: empty, exists, all, allTrue/anyTrue/allFalse/anyFalse,
subsetOf, supersetOf, count, distinct, isDistinct.

``empty()``, ``exists()`` and ``count()`` are their input's existence and count forms
(:mod:`.._compiled`), so ``contained.meta.versionId.empty()`` stops at the first
``versionId`` found and builds no collection.
"""

from __future__ import annotations

from typing import Final

from .._compiled import EACH, C, CallSite, Count, FunctionSpec, boolean
from .._runtime import Coll, Ctx, bool_item, dedupe, eq_key, problem


def _empty(site: CallSite) -> C:
    base = site.base
    if base is None:
        return boolean(lambda ctx, focus, this: not focus, site.deps())
    return boolean(base.empty, site.deps(), obj_test=base.obj_empty)


def _exists(site: CallSite) -> C:
    if site.args:
        crit = site.args[0].test
        crit_obj = site.args[0].obj_test
        scope = site.input_type

        def some(ctx: Ctx, inp: Coll, this: Coll) -> bool | None:
            for i, it in enumerate(inp):
                if crit_obj is not None and type(it) is tuple and it[1] == scope:
                    v = it[0]
                    if type(v) is dict:
                        if crit_obj(v) is True:
                            return True
                        continue
                ctx.index = i
                one = [it]
                if crit(ctx, one, one) is True:
                    return True
            return False

        return site.chain_test(some, ctx=True)
    base = site.base
    if base is None:
        return boolean(lambda ctx, focus, this: bool(focus), site.deps())
    return boolean(base.exists, site.deps(), obj_test=base.obj_exists)


def _all(site: CallSite) -> C:
    crit = site.args[0].test
    crit_obj = site.args[0].obj_test
    scope = site.input_type

    def every(ctx: Ctx, inp: Coll, this: Coll) -> bool | None:
        ctx.spend(len(inp))
        for i, it in enumerate(inp):
            if crit_obj is not None and type(it) is tuple and it[1] == scope:
                v = it[0]
                if type(v) is dict:
                    if crit_obj(v) is not True:
                        return False
                    continue
            ctx.index = i
            one = [it]
            if crit(ctx, one, one) is not True:
                return False
        return True

    return site.chain_test(every, ctx=True)


def _bools(inp: Coll, fname: str) -> list[bool]:
    out = []
    for it in inp:
        b = bool_item(it)
        if b is None:
            raise problem(f"{fname}() needs Boolean items")
        out.append(b)
    return out


def _all_true(site: CallSite) -> C:
    name = site.name

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> bool | None:
        bs = _bools(inp, name)
        if name == "allTrue":
            return all(bs)
        if name == "anyTrue":
            return any(bs)
        if name == "allFalse":
            return not any(bs)
        return not all(bs)

    return site.chain_test(impl)


def _subset(site: CallSite) -> C:
    other = site.args[0].fn
    superset = site.name == "supersetOf"

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> bool | None:
        o = other(ctx, inp, this)
        small, big = (o, inp) if superset else (inp, o)
        keys = {eq_key(x) for x in big}
        return all(eq_key(x) in keys for x in small)

    return site.chain_test(impl)


def _count(site: CallSite) -> C:
    base = site.base
    counted: Count = base.count if base is not None else (lambda ctx, focus, this: len(focus))

    def fn(ctx: Ctx, focus: Coll, this: Coll) -> Coll:
        return [counted(ctx, focus, this)]

    def test(ctx: Ctx, focus: Coll, this: Coll) -> bool | None:
        counted(ctx, focus, this)
        return True  # one Integer: singleton evaluation gives true

    def exists(ctx: Ctx, focus: Coll, this: Coll) -> bool:
        counted(ctx, focus, this)
        return True

    def one(ctx: Ctx, focus: Coll, this: Coll) -> int:
        counted(ctx, focus, this)
        return 1

    return C(fn, site.deps(), test=test, exists=exists, count=one)


def _distinct(site: CallSite) -> C:
    return site.chain(lambda ctx, inp, this: dedupe(inp))


def _is_distinct(site: CallSite) -> C:
    return site.chain_test(lambda ctx, inp, this: len({eq_key(x) for x in inp}) == len(inp))


FUNCTIONS: Final[dict[str, FunctionSpec]] = {
    "empty": FunctionSpec(_empty),
    "exists": FunctionSpec(_exists, 0, 1, per_item=EACH),
    "all": FunctionSpec(_all, 1, per_item=EACH),
    "allTrue": FunctionSpec(_all_true),
    "anyTrue": FunctionSpec(_all_true),
    "allFalse": FunctionSpec(_all_true),
    "anyFalse": FunctionSpec(_all_true),
    "subsetOf": FunctionSpec(_subset, 1),
    "supersetOf": FunctionSpec(_subset, 1),
    "count": FunctionSpec(_count),
    "distinct": FunctionSpec(_distinct),
    "isDistinct": FunctionSpec(_is_distinct),
}

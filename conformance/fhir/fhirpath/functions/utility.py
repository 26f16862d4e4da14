"""FHIRPath §5.9 Utility functions: trace, now, today, timeOfDay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from .._compiled import C, CallSite, FunctionSpec
from .._runtime import Coll, Ctx, single_string
from .._values import Temporal, now_datetime, time_of_day, today_date


def public(it: Any) -> Any:
    """What a hook is shown for an item: its JSON value (the extension object of a
    primitive that has only extensions), system values as they are."""
    if type(it) is tuple:
        return it[0] if it[0] is not None else it[2]
    return it


def _trace(site: CallSite) -> C:
    name_fn = site.args[0].fn
    proj = site.args[1].fn if len(site.args) > 1 else None

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        hook = ctx.opts.trace
        if hook is not None:
            label = single_string(name_fn(ctx, inp, this), "trace") or ""
            shown = proj(ctx, inp, this) if proj is not None else inp
            hook(label, [public(x) for x in shown])
        return inp

    return site.chain(impl, ctx=True, same_items=True)


_CLOCK: Final[dict[str, Callable[[], Temporal]]] = {
    "now": now_datetime,
    "today": today_date,
    "timeOfDay": time_of_day,
}


def _clock(site: CallSite) -> C:
    read = _CLOCK[site.name]
    return site.chain(lambda ctx, inp, this: [read()])


FUNCTIONS: Final[dict[str, FunctionSpec]] = {
    "trace": FunctionSpec(_trace, 1, 2, env=True),
    **{name: FunctionSpec(_clock, env=True) for name in _CLOCK},
}

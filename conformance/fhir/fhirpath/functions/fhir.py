"""Functions FHIR adds to FHIRPath (FHIR R4 §2.1.9.1.5): extension(url), hasValue(),
resolve(), memberOf(valueset), conformsTo(profile), and the validator's htmlChecks()
(narrative rules txt-1/txt-2, see :mod:`.._html`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from .._compiled import C, CallSite, FunctionSpec
from .._html import html_checks, html_has_content
from .._navigation import Member
from .._runtime import Coll, Ctx, EvaluationOptions, prim, resource_node, single_string
from .conversion import single_item
from .utility import public


def _extension(site: CallSite) -> C:
    nav = Member("extension", site.tm).fn
    url_fn = site.args[0].fn
    const = site.args[0].const

    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        coll = const if const is not None else url_fn(ctx, inp, this)
        url = single_string(coll, "extension")
        if url is None:
            return []
        return [e for e in nav(ctx, inp, this) if type(e[0]) is dict and e[0].get("url") == url]

    return site.chain(impl)


def _has_value(site: CallSite) -> C:
    def test(ctx: Ctx, inp: Coll, this: Coll) -> bool | None:
        if len(inp) != 1:
            return False
        v = prim(inp[0])
        return v is not None and type(v) is not dict and type(v) is not list

    return site.chain_test(test)


def _html_checks(site: CallSite) -> C:
    check = html_has_content if site.name == "htmlChecks2" else html_checks

    def test(ctx: Ctx, inp: Coll, this: Coll) -> bool | None:
        it = single_item(inp, "htmlChecks")
        if it is None:
            return False
        v = prim(it)
        if type(v) is dict:
            v = v.get("div")
        return type(v) is str and check(v)

    return site.chain_test(test)


Hook = Callable[[Any, str], bool | None]


def _ask(site: CallSite, pick: Callable[[EvaluationOptions], Hook | None]) -> C:
    """``memberOf(url)`` / ``conformsTo(url)``: the hook's answer for the single input
    item; empty without the hook, or when it does not know."""
    fname = site.name
    url_fn = site.args[0].fn

    def test(ctx: Ctx, inp: Coll, this: Coll) -> bool | None:
        hook = pick(ctx.opts)
        it = single_item(inp, fname)
        if it is None or hook is None:
            return None
        url = single_string(url_fn(ctx, inp, this), fname)
        if url is None:
            return None
        answer = hook(public(it), url)
        return None if answer is None else bool(answer)

    return site.chain_test(test, ctx=True)


def _member_of(site: CallSite) -> C:
    return _ask(site, lambda opts: opts.member_of)


def _conforms_to(site: CallSite) -> C:
    return _ask(site, lambda opts: opts.conforms_to)


def _bundle_index(ctx: Ctx) -> dict[str, Any]:
    idx = ctx.bundle_index
    if idx is not None:
        return idx
    idx = {}
    bundle = ctx.opts.bundle
    if bundle is None and ctx.root is not None and ctx.root[1] == "Bundle":
        bundle = ctx.root[0]
    if type(bundle) is dict:
        for entry in bundle.get("entry") or ():
            if type(entry) is not dict:
                continue
            res = entry.get("resource")
            if type(res) is not dict:
                continue
            full = entry.get("fullUrl")
            if type(full) is str:
                idx.setdefault(full, res)
            rt, rid = res.get("resourceType"), res.get("id")
            if type(rt) is str and type(rid) is str:
                idx.setdefault(f"{rt}/{rid}", res)
    ctx.bundle_index = idx
    return idx


def resolve_reference(ctx: Ctx, ref: str) -> Any:
    """Find the resource a reference points to: contained, in the Bundle, or the hook."""
    if ref.startswith("#"):
        target = ref[1:]
        for holder in (ctx.resource, ctx.root):
            if holder is None or type(holder[0]) is not dict:
                continue
            if not target:
                return holder[0]
            for res in holder[0].get("contained") or ():
                if type(res) is dict and res.get("id") == target:
                    return res
        return None
    idx = _bundle_index(ctx)
    if idx:
        key = ref.split("/_history/", 1)[0]
        found = idx.get(ref) or idx.get(key)
        if found is not None:
            return found
        full = ctx.opts.full_url
        if full and "://" not in key and full.count("/") >= 2:
            base = full.rsplit("/", 2)[0]
            found = idx.get(f"{base}/{key}")
            if found is not None:
                return found
        parts = key.rstrip("/").split("/")
        if len(parts) >= 2:
            found = idx.get(f"{parts[-2]}/{parts[-1]}")
            if found is not None:
                return found
    hook = ctx.opts.resolver
    if hook is not None:
        return hook(ref)
    return None


def _resolve(site: CallSite) -> C:
    def impl(ctx: Ctx, inp: Coll, this: Coll) -> Coll:
        out: Coll = []
        for it in inp:
            v = prim(it)
            if type(v) is dict:
                v = v.get("reference")
            if type(v) is not str:
                continue
            found = resolve_reference(ctx, v)
            if found is not None:
                out.append(resource_node(found))
        return out

    return site.chain(impl, ctx=True)


FUNCTIONS: Final[dict[str, FunctionSpec]] = {
    "extension": FunctionSpec(_extension, 1),
    "hasValue": FunctionSpec(_has_value),
    "htmlChecks": FunctionSpec(_html_checks),
    "htmlChecks2": FunctionSpec(_html_checks),
    "memberOf": FunctionSpec(_member_of, 1, env=True),
    "conformsTo": FunctionSpec(_conforms_to, 1, env=True),
    "resolve": FunctionSpec(_resolve, env=True),
}

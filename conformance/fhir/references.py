"""References: the literal reference syntax, and references resolved where a resource
carries its targets with it.

R4 §2.3.0 (Resource references): a literal reference is ``[base/]Type/id[/_history/vid]``,
a URN (``urn:uuid:``, ``urn:oid:``), or ``#id`` (a contained resource; ``#`` alone is
the container). R4 §2.36.4 (Resolving references in Bundles): an absolute reference
matches an entry's ``fullUrl``; a relative ``Type/id`` is made absolute with the RESTful
base of the referring entry's fullUrl (from an entry without one, it finds the entry of
that type and id); ``_history/vid`` also matches the target's
``meta.versionId`` when it has one. References among the resources of a Parameters
resolve by ``Type/id``.

A resolved reference must point at the type its literal (and its ``type``) says, at a
type the element's definition allows, and at what the profiles applied to the referring
resource allow (``targetProfile``: the type, and conformance to a target profile).
Only in a document must every reference resolve (a message only must not be ambiguous:
official R4 messages refer outside themselves); in other Bundles a target may live on a
server. The walk that finds references is typed (the model says which elements are
References and their targets; it follows only elements that can hold one) and runs once
per Bundle, Parameters or resource with contained resources, with the Bundle's index
built once; other resources cost nothing here. Bundle links: one relation per link.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple
from weakref import WeakKeyDictionary

from conformance.fhir.issues import BASE, FhirIssue, Found, error
from conformance.fhir.model import BACKBONE, COMPLEX, RESOURCE, Elem, Model

if TYPE_CHECKING:
    from conformance.fhir.profiles import ProfileRegistry

#: a literal reference; group 1 is the resource type
LITERAL_REFERENCE = re.compile(
    r"(?:https?://\S*/)?([A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?"
)
_HISTORY = re.compile(r"(.*)/_history/([A-Za-z0-9\-.]{1,64})")
#: a RESTful fullUrl: group 1 is the server's base (R4 §2.36.4, references.html regex)
_RESTFUL = re.compile(
    r"((?:https?)://\S+?)/[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?"
)
#: ``Type/id`` at the end of a reference: group 1 is the type
_TYPED = re.compile(r"(?:.*/)?([A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}")
#: absolute references to elsewhere (not in the Bundle's own fullUrl space) are left alone
_REMOTE = re.compile(r"https?://")


class _Use(NamedTuple):
    """A Reference met by the walk."""

    path: str
    value: dict[str, Any]
    targets: frozenset[str] | None  # the element's allowed target types (None: any)
    name: str  # the element's name, for messages
    container: dict[str, Any]  # the resource whose ``contained`` '#id' resolves in
    #: the element's definition path in the container (``Observation.value[x]``), by which
    #: the container's profiles constrain it; None inside a contained resource
    element: str | None


# ------------------------------------------------------------------ the typed walk


#: extensions are walked wherever the walk goes, never followed to decide where it goes
_EXTENSIONS = ("extension", "modifierExtension")
#: how the walk treats one property of a node: (its element, is it a Reference, the last
#: segment of its definition path, is it ``contained``)
_Step = tuple[Elem, bool, str, bool]


class _Plans:
    """Per node of a model: the properties that can hold a Reference (directly, below, in
    an extension, or in a contained resource); the walk skips the rest (codes, quantities,
    names...). References in extensions of those skipped datatypes are not resolved."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self._plans: dict[str, dict[str, _Step]] = {}
        self._bears: dict[str, bool] = {}

    def plan(self, key: str) -> dict[str, _Step]:
        got = self._plans.get(key)
        if got is None:
            got = {}
            for prop, e in self.model.node(key).children.items():
                if e.kind == RESOURCE:
                    if prop == "contained":
                        got[prop] = (e, False, prop, True)
                elif e.kind == COMPLEX or e.kind == BACKBONE:
                    ref = e.type == "Reference"
                    if ref or prop in _EXTENSIONS or self._bearing(e.type):
                        got[prop] = (e, ref, e.path.rsplit(".", 1)[-1], False)
            self._plans[key] = got
        return got

    def _bearing(self, key: str) -> bool:
        """Whether a node can hold a Reference other than through an extension (a
        fixpoint over the nodes it reaches: types are recursive)."""
        memo = self._bears
        if key in memo:
            return memo[key]
        direct: dict[str, bool] = {}
        edges: dict[str, list[str]] = {}
        stack = [key]
        while stack:
            k = stack.pop()
            if k in direct:
                continue
            found, nexts = False, []
            for prop, e in self.model.node(k).children.items():
                if (e.kind == COMPLEX or e.kind == BACKBONE) and prop not in _EXTENSIONS:
                    if e.type == "Reference":
                        found = True
                    elif e.type not in memo:
                        nexts.append(e.type)
                    elif memo[e.type]:
                        found = True
            direct[k], edges[k] = found, nexts
            stack.extend(n for n in nexts if n not in direct)
        bears = {k for k, found in direct.items() if found}
        changed = True
        while changed:
            changed = False
            for k, nexts in edges.items():
                if k not in bears and any(n in bears for n in nexts):
                    bears.add(k)
                    changed = True
        for k in direct:
            memo[k] = k in bears
        return memo[key]


_PLANS: WeakKeyDictionary[Model, _Plans] = WeakKeyDictionary()


def _collect(
    plans: _Plans,
    obj: dict[str, Any],
    key: str,
    path: str,
    container: dict[str, Any],
    element: str | None,
    out: list[_Use],
) -> None:
    """The References in ``obj`` (a node of type or backbone ``key``, at ``path``, defined
    at ``element``); contained resources are walked with the same container."""
    plan = plans.plan(key)
    for prop, value in obj.items():
        step = plan.get(prop)
        if step is None:
            continue
        e, reference, segment, contained = step
        if contained:
            if type(value) is not list:
                continue
            for i, res in enumerate(value):
                rtype = res.get("resourceType") if type(res) is dict else None
                if type(rtype) is str and rtype in plans.model.resource_types:
                    at = f"{path}.contained[{i}]"
                    _collect(plans, res, rtype, at, container, None, out)
            continue
        items = value if type(value) is list else (value,)
        defined = None if element is None else f"{element}.{segment}"
        for i, item in enumerate(items):
            if type(item) is not dict:
                continue
            at = f"{path}.{prop}[{i}]" if e.array else f"{path}.{prop}"
            if reference and type(item.get("reference")) is str:
                out.append(_Use(at, item, e.targets, prop, container, defined))
            _collect(plans, item, e.type, at, container, defined, out)


def _references(model: Model, res: dict[str, Any], path: str) -> list[_Use]:
    out: list[_Use] = []
    rtype = res.get("resourceType")
    if type(rtype) is str and rtype in model.resource_types:
        plans = _PLANS.get(model)
        if plans is None:
            plans = _PLANS[model] = _Plans(model)
        _collect(plans, res, rtype, path, res, rtype, out)
    return out


# ------------------------------------------------------------------ checks of a target


def _contained(use: _Use) -> dict[str, Any] | None:
    """The target of a '#id' reference, or None."""
    ref: str = use.value["reference"]
    if ref == "#":
        return use.container
    contained = use.container.get("contained")
    if type(contained) is list:
        for c in contained:
            if type(c) is dict and c.get("id") == ref[1:]:
                return c
    return None


def _target_issues(
    use: _Use, target: dict[str, Any], known: frozenset[str], profiles: TargetProfiles | None
) -> list[FhirIssue]:
    """A resolved reference points at the type it says, at a type its definition allows
    and at what the profiles applied to its resource allow (``profiles``)."""
    rtype = target.get("resourceType")
    if type(rtype) is not str or rtype not in known:
        return []  # the target's own validation reports its type
    ref: str = use.value["reference"]
    m = _HISTORY.fullmatch(ref) if "/_history/" in ref else None
    literal = _TYPED.fullmatch(m.group(1) if m else ref)
    said = literal.group(1) if literal is not None and literal.group(1) in known else None
    out: list[FhirIssue] = []
    if said is not None and said != rtype:
        message = f"Reference '{use.name}' says {said} but resolves to a {rtype}"
        out.append(FhirIssue("error", "reference-type-mismatch", use.path, message, BASE))
    stated = use.value.get("type")
    if type(stated) is str and stated in known and stated != rtype:
        message = f"Reference '{use.name}' has type {stated} but resolves to a {rtype}"
        out.append(FhirIssue("error", "reference-type-mismatch", use.path, message, BASE))
    targets = use.targets
    # a literal that names the target's type was judged by the base walk already
    allowed = targets is None or "Resource" in targets or rtype in targets
    if not allowed and said != rtype:
        message = f"Reference '{use.name}' points at a {rtype}, which is not an allowed target"
        out.append(FhirIssue("error", "reference-target", use.path, message, BASE))
    if profiles is not None and use.element is not None:
        out.extend(profiles.issues(use, target, rtype))
    return out


def _contained_issues(
    uses: list[_Use], known: frozenset[str], profiles: TargetProfiles | None
) -> list[FhirIssue]:
    out: list[FhirIssue] = []
    for use in uses:
        if use.value["reference"].startswith("#"):
            target = _contained(use)
            if target is not None:
                out.extend(_target_issues(use, target, known, profiles))
    return out


# ------------------------------------------------------------------ profiles' targets

_CORE_SD = "http://hl7.org/fhir/StructureDefinition/"
#: a profile's Reference elements: definition path -> target type -> the profiles the
#: target must meet one of (empty: the core type, anything of that type will do)
_TargetMap = dict[str, dict[str, list[str]]]


class TargetProfiles:
    """What the profiles applied to a referring resource say of a resolved target: its
    type is one of the element's ``targetProfile`` types, and where those are profiles
    (not core types) it conforms to one of them (HL7's validator validates the target
    against them)."""

    def __init__(
        self, registry: ProfileRegistry, applied: Callable[[dict[str, Any]], Sequence[str]]
    ) -> None:
        self._registry = registry
        self._applied = applied  # the profiles applied to a referring resource
        self._maps: dict[str, _TargetMap] = {}
        self._last: Any = None
        self._urls: Sequence[str] = ()

    def issues(self, use: _Use, target: dict[str, Any], rtype: str) -> list[FhirIssue]:
        out: list[FhirIssue] = []
        if use.container is not self._last:  # the uses of one resource come together
            self._last, self._urls = use.container, self._applied(use.container)
        for url in self._urls:
            allowed = self._targets(url).get(use.element or "")
            if not allowed or "Resource" in allowed:
                continue
            profiles = allowed.get(rtype)
            if profiles is None:
                message = (
                    f"Reference '{use.name}' points at a {rtype}, which this profile does not allow"
                )
                out.append(FhirIssue("error", "reference-target", use.path, message, url))
            elif profiles:
                answers = [self._registry.conforms(target, p, target) for p in profiles]
                if None not in answers and True not in answers:
                    message = (
                        f"Reference '{use.name}' points at a {rtype} that conforms to none of "
                        "the target profiles this profile requires"
                    )
                    out.append(FhirIssue("error", "reference-target", use.path, message, url))
        return out

    def _targets(self, url: str) -> _TargetMap:
        got = self._maps.get(url)
        if got is None:
            got = self._maps[url] = self._read(url)
        return got

    def _read(self, url: str) -> _TargetMap:
        """The profile's Reference elements with target profiles (slices left out: they
        constrain only the items they match)."""
        registry = self._registry
        sd = None if registry.is_core_type(url) else registry.structure_definition(url)
        out: _TargetMap = {}
        if sd is None:
            return out
        tree = sd.get("snapshot") or sd.get("differential")
        elements = tree.get("element") if type(tree) is dict else None
        for el in elements if type(elements) is list else ():
            if type(el) is not dict or ":" in str(el.get("id", "")):
                continue
            allowed: dict[str, list[str]] = {}
            for t in el.get("type") or ():
                if type(t) is not dict or t.get("code") != "Reference":
                    continue
                for tp in t.get("targetProfile") or ():
                    tp = str(tp).split("|", 1)[0]
                    if registry.is_core_type(tp) and tp.startswith(_CORE_SD):
                        allowed[tp[len(_CORE_SD) :]] = []
                        continue
                    tsd = registry.structure_definition(tp)
                    if tsd is None:  # an unknown profile: nothing can be said
                        allowed = {}
                        break
                    kind = str(tsd.get("type"))
                    if allowed.get(kind) != []:  # the core type already allows anything
                        allowed.setdefault(kind, []).append(tp)
                else:
                    continue
                break
            if allowed and type(el.get("path")) is str:
                out[el["path"]] = allowed
        return out


# ------------------------------------------------------------------ Bundles


class _Entries:
    """A Bundle's entries indexed once: by fullUrl, and by ``Type/id`` where the fullUrl
    is absent or ends so (what a relative reference from an entry without a RESTful
    fullUrl finds)."""

    __slots__ = ("by_local", "by_url", "versions")

    def __init__(self, entries: list[Any]) -> None:
        self.by_url: dict[str, list[int]] = {}
        self.by_local: dict[str, list[int]] = {}
        self.versions: dict[int, str] = {}
        for i, entry in enumerate(entries):
            if type(entry) is not dict:
                continue
            res = entry.get("resource")
            full = entry.get("fullUrl")
            if type(full) is str:
                self.by_url.setdefault(full, []).append(i)
            if type(res) is not dict:
                continue
            meta = res.get("meta")
            if type(meta) is dict and type(meta.get("versionId")) is str:
                self.versions[i] = meta["versionId"]
            if type(res.get("id")) is str:
                local = f"{res.get('resourceType')}/{res['id']}"
                if type(full) is not str or full.endswith("/" + local):
                    self.by_local.setdefault(local, []).append(i)

    def resolve(self, ref: str, base: str | None) -> list[int]:
        """The entries a (non-'#') reference matches, made in an entry whose fullUrl has
        the RESTful ``base`` (None: not a RESTful fullUrl)."""
        m = _HISTORY.fullmatch(ref) if "/_history/" in ref else None
        target, version = (m.group(1), m.group(2)) if m else (ref, None)
        found: list[int] = []
        if ":" in target:  # absolute: a URL or a URN matches fullUrls only
            found = self.by_url.get(target, [])
        else:
            if base is not None:  # R4: relative to the server of the referring entry
                found = self.by_url.get(f"{base}/{target}", [])
            else:
                found = self.by_local.get(target, [])
        if version is not None and found:
            versions = self.versions
            found = [i for i in found if versions.get(i, version) == version]
        return found


def bundle_references(
    bundle: dict[str, Any],
    model: Model,
    path: str = "Bundle",
    profiles: TargetProfiles | None = None,
) -> list[FhirIssue]:
    """References inside a Bundle (at ``path``): resolved targets of the right type; in a
    document or message no ambiguous reference, and in a document none that does not
    resolve. A Bundle in an entry resolves its own references."""
    out = _duplicate_links(bundle.get("link"), path)
    entries = bundle.get("entry")
    if type(entries) is not list:
        return out
    btype = bundle.get("type")
    checked = btype in ("document", "message")
    must_resolve = btype == "document"
    index: _Entries | None = None
    known = model.resource_types
    for i, entry in enumerate(entries):
        if type(entry) is not dict:
            continue
        if "link" in entry:
            out.extend(_duplicate_links(entry["link"], f"{path}.entry[{i}]"))
        res = entry.get("resource")
        if type(res) is not dict:
            continue
        at = f"{path}.entry[{i}].resource"
        if res.get("resourceType") == "Bundle":
            out.extend(bundle_references(res, model, at, profiles))
            continue
        uses = _references(model, res, at)
        if not uses:
            continue
        if index is None:
            index = _Entries(entries)
        full = entry.get("fullUrl")
        restful = _RESTFUL.fullmatch(full) if type(full) is str else None
        base = None if restful is None else restful.group(1)
        for use in uses:
            ref: str = use.value["reference"]
            if ref.startswith("#"):
                target = _contained(use)
                if target is not None:
                    out.extend(_target_issues(use, target, known, profiles))
                continue
            found = index.resolve(ref, base)
            if len(found) > 1:
                if checked:
                    message = "Reference matches more than one entry in the Bundle"
                    out.append(FhirIssue("error", "reference-ambiguous", use.path, message, BASE))
                continue
            if found:
                target = entries[found[0]].get("resource")
                if type(target) is dict:
                    out.extend(_target_issues(use, target, known, profiles))
            elif must_resolve and not _REMOTE.match(ref):
                message = "Reference does not resolve to an entry in the Bundle"
                out.append(FhirIssue("error", "reference-not-found", use.path, message, BASE))
    return out


def _duplicate_links(links: Any, path: str) -> list[FhirIssue]:
    """A Bundle's (or an entry's) links each have their own relation (HL7's validator:
    a relation given twice is an error)."""
    out: list[FhirIssue] = []
    if type(links) is not list or len(links) < 2:
        return out
    seen: set[str] = set()
    for j, link in enumerate(links):
        rel = link.get("relation") if type(link) is dict else None
        if type(rel) is not str:
            continue
        if rel in seen:
            message = "Link relation is already used by an earlier link (relations must be unique)"
            out.append(
                FhirIssue("error", "bundle-link-duplicate", f"{path}.link[{j}]", message, BASE)
            )
        seen.add(rel)
    return out


# ------------------------------------------------------------------ Parameters


def _parameter_resources(params: Any, path: str, out: list[tuple[str, dict[str, Any]]]) -> None:
    if type(params) is not list:
        return
    for i, p in enumerate(params):
        if type(p) is not dict:
            continue
        at = f"{path}[{i}]"
        res = p.get("resource")
        if type(res) is dict:
            out.append((f"{at}.resource", res))
        _parameter_resources(p.get("part"), f"{at}.part", out)


def parameters_references(
    parameters: dict[str, Any], model: Model, profiles: TargetProfiles | None = None
) -> list[FhirIssue]:
    """References among the resources of a Parameters resolve by ``Type/id`` (or to a
    contained resource); a reference that does not resolve is not an error."""
    held: list[tuple[str, dict[str, Any]]] = []
    _parameter_resources(parameters.get("parameter"), "Parameters.parameter", held)
    if not held:
        return []
    by_local: dict[str, list[dict[str, Any]]] = {}
    for _, res in held:
        if type(res.get("id")) is str:
            by_local.setdefault(f"{res.get('resourceType')}/{res['id']}", []).append(res)
    known = model.resource_types
    out: list[FhirIssue] = []
    for path, res in held:
        for use in _references(model, res, path):
            ref: str = use.value["reference"]
            if ref.startswith("#"):
                target = _contained(use)
            else:
                m = _HISTORY.fullmatch(ref)
                found = by_local.get(m.group(1) if m else ref, [])
                target = found[0] if len(found) == 1 else None
            if target is not None:
                out.extend(_target_issues(use, target, known, profiles))
    return out


def contained_references(
    resource: dict[str, Any], model: Model, profiles: TargetProfiles | None = None
) -> list[FhirIssue]:
    """'#id' references of a resource with contained resources point at the right type."""
    rtype = resource.get("resourceType")
    if type(rtype) is not str:
        return []
    return _contained_issues(_references(model, resource, rtype), model.resource_types, profiles)


def resolved_references(
    resource: dict[str, Any], model: Model, profiles: TargetProfiles | None = None
) -> list[FhirIssue]:
    """The issues of the references a resource resolves itself: in a Bundle, among the
    resources of a Parameters, or to its contained resources (``profiles``: what the
    profiles applied to the referring resources say of their targets)."""
    rtype = resource.get("resourceType")
    if rtype == "Bundle":
        return bundle_references(resource, model, profiles=profiles)
    if rtype == "Parameters":
        return parameters_references(resource, model, profiles)
    if "contained" in resource:
        return contained_references(resource, model, profiles)
    return []


def reference_target(
    name: str, targets: frozenset[str] | None, known: frozenset[str]
) -> Callable[[Any], list[Found] | None] | None:
    """A Reference of base R4 whose type can be read from it points at one of the
    element's target types (``known``: the resource types)."""
    if targets is None or "Resource" in targets:
        return None

    def target(value: Any) -> list[Found] | None:
        ref = value.get("reference")
        rtype = None
        if type(ref) is str:
            m = LITERAL_REFERENCE.fullmatch(ref)
            if m is not None:
                rtype = m.group(1)
        elif type(value.get("type")) is str:
            rtype = value["type"]
        if rtype is None or rtype not in known or rtype in targets:
            return None
        message = f"Reference '{name}' points at a {rtype}, which is not an allowed target"
        return error("reference-target", "", message)

    return target


def profile_reference_target(
    targets: frozenset[str], source: str
) -> Callable[[Any, Any, str | None, Any], list[Found] | None]:
    """A literal reference points at one of the types a profile's targetProfiles allow."""
    issue = FhirIssue(
        "error",
        "reference-target",
        "",
        "Reference points at a resource type this profile does not allow",
        source,
    )

    def target(value: Any, ext: Any, t: str | None, res: Any) -> list[Found] | None:
        if type(value) is dict:
            ref = value.get("reference")
            if type(ref) is str:
                m = LITERAL_REFERENCE.fullmatch(ref)
                if m is not None and m.group(1) not in targets:
                    return [issue]
        return None

    return target

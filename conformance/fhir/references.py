"""References: the literal reference syntax and reference resolution inside Bundles.

R4 §2.3.0 (Resource references): a literal reference is ``[base/]Type/id[/_history/vid]``;
inside a Bundle (R4 §2.36.4) a reference resolves against the entries' ``fullUrl``s (and
``Type/id`` against entries whose fullUrl ends so).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from conformance.fhir.issues import BASE, FhirIssue, Found, error

#: a literal reference; group 1 is the resource type
LITERAL_REFERENCE = re.compile(
    r"(?:https?://\S*/)?([A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?"
)
_HISTORY = re.compile(r"(.*)/_history/([A-Za-z0-9\-.]{1,64})")


def _collect_refs(obj: Any, path: str, out: list[tuple[str, str]]) -> None:
    if type(obj) is dict:
        ref = obj.get("reference")
        if type(ref) is str:
            out.append((path, ref))
        for k, v in obj.items():
            if k != "contained":
                _collect_refs(v, f"{path}.{k}", out)
    elif type(obj) is list:
        for i, v in enumerate(obj):
            _collect_refs(v, f"{path}[{i}]", out)


def bundle_references(bundle: dict[str, Any], must_resolve: bool) -> list[FhirIssue]:
    """References inside a document or message Bundle must not be ambiguous; in a
    document they must also resolve to an entry."""
    entries = bundle.get("entry")
    if type(entries) is not list:
        return []
    index: dict[str, list[tuple[int, Any]]] = {}
    for i, entry in enumerate(entries):
        if type(entry) is not dict:
            continue
        res = entry.get("resource")
        version = None
        if type(res) is dict and type(res.get("meta")) is dict:
            version = res["meta"].get("versionId")
        keys: set[str] = set()
        full = entry.get("fullUrl")
        if type(full) is str:
            keys.add(full)
        if type(res) is dict and type(res.get("id")) is str:
            local = f"{res.get('resourceType')}/{res['id']}"
            if type(full) is not str or full.endswith("/" + local):
                keys.add(local)
        for k in keys:
            index.setdefault(k, []).append((i, version))
    out: list[FhirIssue] = []
    for i, entry in enumerate(entries):
        res = entry.get("resource") if type(entry) is dict else None
        if type(res) is not dict:
            continue
        refs: list[tuple[str, str]] = []
        _collect_refs(res, f"Bundle.entry[{i}].resource", refs)
        for path, ref in refs:
            if ref.startswith("#"):
                continue
            m = _HISTORY.fullmatch(ref)
            target, version = (m.group(1), m.group(2)) if m else (ref, None)
            found = index.get(target, [])
            if version is not None:
                found = [f for f in found if f[1] == version]
            if len(found) > 1:
                out.append(
                    FhirIssue(
                        "error",
                        "reference-ambiguous",
                        path,
                        "Reference matches more than one entry in the Bundle",
                        BASE,
                    )
                )
            elif not found and must_resolve and not _REMOTE.match(ref):
                out.append(
                    FhirIssue(
                        "error",
                        "reference-not-found",
                        path,
                        "Reference does not resolve to an entry in the Bundle",
                        BASE,
                    )
                )
    return out


#: absolute references to elsewhere (not in the Bundle's own fullUrl space) are left alone
_REMOTE = re.compile(r"https?://")


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

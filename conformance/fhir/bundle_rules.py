"""Searchset Bundles (R4 bundle.html §search results, and the HL7 validator's checks).

A ``searchset`` Bundle answers a search. Once its entries say why they are there
(``entry.search.mode``), each says it truly:

- ``match`` and ``include`` entries carry a resource with an ``id`` (search results are
  resources on a server);
- ``outcome`` entries carry an OperationOutcome;
- ``match`` entries are of the types searched, read from the ``self`` link as the HL7
  validator does: the last path segment when it is a resource type (``.../Patient?...``),
  else the ``_type`` parameter.

Entries without a resource are errors; a missing ``self`` link or an entry without a mode
(when others have one) is a warning. Messages name resource types (never values).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from conformance.fhir.issues import BASE, FhirIssue


def _str(obj: Any, key: str) -> str | None:
    v = obj.get(key) if type(obj) is dict else None
    return v if type(v) is str else None


def searched_types(url: str | None, resource_types: Collection[str]) -> list[str]:
    """The resource types a search URL asks for: the path's last segment when it is a
    resource type, else the ``_type`` parameter's (comma separated); [] when unknown."""
    if not url:
        return []
    head, _, query = url.partition("?")
    last = head.rsplit("/", 1)[-1]
    if last in resource_types:
        return [last]
    out: list[str] = []
    for part in query.split("&") if query else ():
        if part.startswith("_type="):
            out.extend(t for t in part[6:].split(",") if t)
    return out


def _self_url(bundle: dict[str, Any]) -> tuple[bool, str | None]:
    links = bundle.get("link")
    for link in links if type(links) is list else ():
        if type(link) is dict and link.get("relation") == "self":
            return True, _str(link, "url")
    return False, None


def searchset_issues(
    bundle: dict[str, Any], resource_types: Collection[str], at: str = "Bundle"
) -> list[FhirIssue]:
    """The issues of a ``searchset`` Bundle's entries (none for other Bundle types)."""
    if bundle.get("type") != "searchset":
        return []
    out: list[FhirIssue] = []
    has_self, url = _self_url(bundle)
    if not has_self:
        message = "A searchset Bundle should have a 'self' link that says what the search was"
        out.append(FhirIssue("warning", "searchset", at, message, BASE))
    types = searched_types(url, resource_types)
    entries = bundle.get("entry")
    if type(entries) is not list:
        return out
    modes = [_str(e.get("search"), "mode") if type(e) is dict else None for e in entries]
    if all(m is None for m in modes):
        return out  # the reference only advises (warnings) when no entry has a mode
    for i, (entry, mode) in enumerate(zip(entries, modes, strict=True)):
        where = f"{at}.entry[{i}]"
        if mode is None:
            message = "Entries of a searchset Bundle should say their search mode"
            out.append(FhirIssue("warning", "searchset", where, message, BASE))
        res = entry.get("resource") if type(entry) is dict else None
        if type(res) is not dict:
            message = "Entries of a searchset Bundle must have a resource"
            out.append(FhirIssue("error", "searchset", where, message, BASE))
            continue
        rtype = _str(res, "resourceType")
        shown = rtype if rtype in resource_types else "an unknown type"
        where += ".resource"
        if mode in ("match", "include"):
            if res.get("id") is None:
                message = f"Search results must have ids (entry with search.mode '{mode}')"
                out.append(FhirIssue("error", "searchset", where, message, BASE))
            if mode == "match" and types and rtype not in types:
                wanted = ", ".join(t for t in types if t in resource_types) or "other types"
                message = (
                    f"This is not a matching resource type for the search ({shown}, "
                    f"expecting {wanted})"
                )
                out.append(FhirIssue("error", "searchset", where, message, BASE))
        elif mode == "outcome" and rtype != "OperationOutcome":
            message = f"An entry with search.mode 'outcome' must be an OperationOutcome ({shown})"
            out.append(FhirIssue("error", "searchset", where, message, BASE))
    return out

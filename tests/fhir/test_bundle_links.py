"""Bundle links: each link of a Bundle (and of an entry) has its own relation (HL7's
validator reports a relation used twice)."""

from __future__ import annotations

from typing import Any

from fhir_helpers import errors

from conformance.fhir import FhirValidator


def _searchset(links: list[dict[str, Any]], entry_links: list[dict[str, Any]]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "fullUrl": "http://example.org/fhir/Patient/1",
        "resource": {"resourceType": "Patient", "id": "1"},
        "search": {"mode": "match"},
    }
    if entry_links:
        entry["link"] = entry_links
    return {"resourceType": "Bundle", "type": "searchset", "link": links, "entry": [entry]}


def _found(base: FhirValidator, resource: dict[str, Any]) -> list[tuple[str, str]]:
    return [(i.code, i.expression) for i in errors(base.validate(resource))]


SELF = {"relation": "self", "url": "http://example.org/fhir/Patient?name=x"}
NEXT = {"relation": "next", "url": "http://example.org/fhir/Patient?name=x&page=2"}


def test_distinct_relations_are_fine(base: FhirValidator) -> None:
    assert _found(base, _searchset([SELF, NEXT], [SELF, NEXT])) == []


def test_bundle_link_relation_twice_is_an_error(base: FhirValidator) -> None:
    other = {"relation": "next", "url": "http://example.org/fhir/Patient?name=x&page=3"}
    found = _found(base, _searchset([SELF, NEXT, other], []))
    assert found == [("bundle-link-duplicate", "Bundle.link[2]")]


def test_entry_link_relation_twice_is_an_error(base: FhirValidator) -> None:
    found = _found(base, _searchset([SELF], [SELF, NEXT, SELF]))
    assert found == [("bundle-link-duplicate", "Bundle.entry[0].link[2]")]


def test_same_relation_on_bundle_and_entry_is_fine(base: FhirValidator) -> None:
    assert _found(base, _searchset([SELF], [SELF])) == []

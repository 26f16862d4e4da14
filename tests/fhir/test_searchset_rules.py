"""Searchset Bundles (R4 bundle.html, search results): ids on matches and includes,
OperationOutcome for outcomes, match types from the self link."""

from __future__ import annotations

from typing import Any

import pytest
from fhir_helpers import errors

from conformance.fhir import FhirValidator
from conformance.fhir.bundle_rules import searched_types
from conformance.fhir.model import base_model

_TYPES = base_model().resource_types


def _entry(resource: dict[str, Any], mode: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"resource": resource}
    rid = resource.get("id")
    if rid is not None:
        entry["fullUrl"] = f"http://example.net/fhir/{resource['resourceType']}/{rid}"
    else:
        entry["fullUrl"] = "urn:uuid:c757873d-ec9a-4326-a141-556f43239520"
    if mode is not None:
        entry["search"] = {"mode": mode}
    return entry


def _searchset(*entries: dict[str, Any], self_url: str | None = None) -> dict[str, Any]:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "entry": list(entries)}
    if self_url is not None:
        bundle["link"] = [{"relation": "self", "url": self_url}]
    return bundle


_PATIENT = {"resourceType": "Patient", "id": "p1"}
_ORG = {"resourceType": "Organization", "id": "o1"}
_OUTCOME = {
    "resourceType": "OperationOutcome",
    "id": "oo",
    "issue": [{"severity": "information", "code": "informational"}],
}


def _rule_errors(bundle: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (i.expression, i.message)
        for i in errors(FhirValidator.base().validate(bundle))
        if i.code == "searchset"
    ]


@pytest.mark.parametrize(
    ("url", "types"),
    [
        ("http://example.net/fhir/Patient?name=x", ["Patient"]),
        ("http://example.net/fhir/Patient", ["Patient"]),
        ("http://example.net/fhir?_type=Patient,Organization&name=x", ["Patient", "Organization"]),
        ("http://example.net/fhir/?name=x", []),
        (None, []),
    ],
)
def test_searched_types_from_the_self_link(url: str | None, types: list[str]) -> None:
    assert searched_types(url, _TYPES) == types


def test_valid_searchset_has_no_errors() -> None:
    bundle = _searchset(
        _entry(_PATIENT, "match"),
        _entry(_ORG, "include"),
        _entry(_OUTCOME, "outcome"),
        self_url="http://example.net/fhir/Patient?_include=Patient:organization",
    )
    assert _rule_errors(bundle) == []


def test_match_and_include_must_have_ids() -> None:
    bundle = _searchset(
        _entry({"resourceType": "Patient"}, "match"),
        _entry({"resourceType": "Organization"}, "include"),
        self_url="http://example.net/fhir/Patient",
    )
    got = _rule_errors(bundle)
    assert [where for where, _ in got] == ["Bundle.entry[0].resource", "Bundle.entry[1].resource"]
    assert all("Search results must have ids" in m for _, m in got)


def test_outcome_must_be_an_operation_outcome() -> None:
    bundle = _searchset(_entry(_PATIENT, "match"), _entry(_ORG, "outcome"))
    got = _rule_errors(bundle)
    assert [where for where, _ in got] == ["Bundle.entry[1].resource"]
    assert "OperationOutcome" in got[0][1]


def test_match_types_follow_the_self_link() -> None:
    by_path = _searchset(_entry(_ORG, "match"), self_url="http://example.net/fhir/Patient?x=1")
    assert [w for w, _ in _rule_errors(by_path)] == ["Bundle.entry[0].resource"]
    by_type = _searchset(
        _entry(_ORG, "match"), self_url="http://example.net/fhir?_type=Patient,Organization"
    )
    assert _rule_errors(by_type) == []
    # an include may be of any type
    included = _searchset(_entry(_ORG, "include"), self_url="http://example.net/fhir/Patient")
    assert _rule_errors(included) == []


def test_no_modes_at_all_only_warns_and_missing_self_link_warns() -> None:
    bundle = _searchset(_entry({"resourceType": "Patient"}, None))
    issues = FhirValidator.base().validate(bundle)
    assert [i for i in errors(issues) if i.code == "searchset"] == []
    assert any(i.severity == "warning" and "self" in i.message for i in issues)


def test_some_modes_judge_every_entry() -> None:
    bundle = _searchset(
        _entry(_PATIENT, "match"),
        _entry({"resourceType": "Patient"}, None),
        {"search": {"mode": "match"}},
        self_url="http://example.net/fhir/Patient",
    )
    issues = FhirValidator.base().validate(bundle)
    warned = [i.expression for i in issues if i.severity == "warning" and "mode" in i.message]
    assert warned == ["Bundle.entry[1]"]
    assert [w for w, _ in _rule_errors(bundle)] == ["Bundle.entry[2]"]


def test_other_bundle_types_are_not_judged() -> None:
    bundle = _searchset(_entry({"resourceType": "Patient"}, "match"))
    bundle["type"] = "collection"
    del bundle["entry"][0]["search"]
    assert _rule_errors(bundle) == []

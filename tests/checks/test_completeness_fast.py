"""Data item paths (``compile_path`` + ``compile_leaves``): the values a path reaches,
as the completeness module's docstring defines them."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks.completeness import compile_leaves, compile_path

NHS = "https://fhir.nhs.uk/Id/nhs-number"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"

PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "gender": "female",
    "identifier": [
        {"system": NHS, "value": "9000000009"},
        {"system": "urn:x", "value": "local"},
        "not an object",
    ],
    "name": [{"family": "A", "given": ["B", "C"]}, {"given": ["D"]}, None, {"family": ""}],
    "telecom": [{"system": "phone", "value": "1"}, {"system": "email", "value": "e"}],
    "extension": [
        {"url": "http://x.org/a", "valueCode": "a"},
        {"url": "http://x.org/b", "valueCode": "b"},
        {"url": "http://x.org/a", "valueString": "again"},
    ],
    "generalPractitioner": [{"identifier": {"system": ODS, "value": "A1"}}],
    "deceasedBoolean": False,
    "managingOrganization": {"reference": "Organization/1"},
}


def reach(path: str, resource: Any = PATIENT) -> list[Any]:
    return compile_leaves(compile_path(path))(resource)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("gender", ["female"]),
        # arrays are searched element by element, in order; non-objects reach nothing
        ("name.family", ["A", ""]),
        ("name.given", ["B", "C", "D"]),
        ("identifier.value", ["9000000009", "local"]),
        # name(value): only the items whose discriminator (system; url for extensions) matches
        (f"identifier({NHS}).value", ["9000000009"]),
        ("extension(http://x.org/a).valueCode", ["a"]),
        ("extension(http://x.org/a).value[x]", ["a", "again"]),
        ("telecom(system=phone).value", ["1"]),
        ("telecom(system=fax).value", []),
        # a discriminated single object
        (f"generalPractitioner.identifier({ODS}).value", ["A1"]),
        ("generalPractitioner.identifier(urn:other).value", []),
        # name[x]: whichever type the choice has
        ("deceased[x]", [False]),
        ("multipleBirth[x]", []),
        ("managingOrganization.reference", ["Organization/1"]),
        ("managingOrganization.reference.x", []),
        ("a.b.c", []),
    ],
)
def test_values_reached(path: str, expected: list[Any]) -> None:
    assert reach(path) == expected


@pytest.mark.parametrize("resource", [None, "x", 1, [], {}, {"name": None}, {"name": []}])
def test_odd_resources_reach_nothing(resource: Any) -> None:
    for path in ("name", "name.family", "name(x).family", "value[x]"):
        assert reach(path, resource) == []


def test_a_whole_array_is_flattened() -> None:
    assert reach("telecom") == PATIENT["telecom"]
    assert reach("name")[2] is None  # items are reached as they are

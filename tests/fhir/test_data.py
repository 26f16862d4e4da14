"""The shipped precompiled R4 data."""

from __future__ import annotations

import time

from conformance.fhir.data import core_data, core_expansion, core_profiles, core_terminology
from conformance.fhir.resource_types import RESOURCE_TYPES
from conformance.fhir.validator import FhirValidator


def test_data_has_all_resource_types() -> None:
    types = core_data()["types"]
    concrete = {n for n, t in types.items() if t["kind"] == "resource" and not t["abstract"]}
    assert len(concrete) == 146
    assert concrete == set(RESOURCE_TYPES)
    assert FhirValidator.base().model.resource_types == frozenset(RESOURCE_TYPES)


def test_data_has_datatypes_primitives_and_invariants() -> None:
    data = core_data()
    assert {"HumanName", "Quantity", "SimpleQuantity", "Extension"} <= set(data["types"])
    assert data["primitives"]["id"] == "[A-Za-z0-9\\-\\.]{1,64}"
    keys = {row[0] for row in data["invariants"]}
    assert {"obs-6", "pat-1", "per-1", "dom-3"} <= keys
    assert "ele-1" not in keys  # implemented natively


def test_required_binding_expansions() -> None:
    gender = core_expansion("http://hl7.org/fhir/ValueSet/administrative-gender")
    assert gender == {
        "http://hl7.org/fhir/administrative-gender": frozenset(
            {"male", "female", "other", "unknown"}
        )
    }
    assert core_expansion("http://hl7.org/fhir/ValueSet/mimetypes") is None  # not expandable


def test_lazy_parts_load() -> None:
    assert "http://hl7.org/fhir/StructureDefinition/bodyweight" in core_profiles()
    assert (
        "http://terminology.hl7.org/CodeSystem/v3-NullFlavor" in core_terminology()["codesystems"]
    )


def test_base_data_loads_fast() -> None:
    core_data.cache_clear()
    t = time.perf_counter()
    core_data()
    assert time.perf_counter() - t < 0.5

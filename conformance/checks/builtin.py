"""The built-in check types, registered through the same hook as third-party ones."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.checks import (
    completeness,
    identity,
    organisation,
    outcomes,
    provenance,
    references,
    structure,
    tables,
    terminology,
    timeliness,
)
from conformance.plugin import hookimpl


@hookimpl
def conformance_check_types() -> Mapping[str, Any]:
    return {
        "parseable": structure.parseable,
        "fhir-base": structure.fhir_base,
        "fhir-profiles": structure.fhir_profiles,
        "fhir-resources": structure.fhir_resources,
        "meta-profile": structure.meta_profile,
        **identity.CHECK_TYPES,
        **organisation.CHECK_TYPES,
        **terminology.CHECK_TYPES,
        **references.CHECK_TYPES,
        **timeliness.CHECK_TYPES,
        **completeness.CHECK_TYPES,
        **outcomes.CHECK_TYPES,
        **provenance.CHECK_TYPES,
        **tables.CHECK_TYPES,
    }

"""FHIR R4 support: resource types, base and profile validation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.fhir.errors import DefinitionError

if TYPE_CHECKING:
    from conformance.fhir.definitions import DefinitionSet
    from conformance.fhir.fhir_xml import parse_fhir_xml
    from conformance.fhir.validator import FhirIssue, FhirValidator

__all__ = ["DefinitionError", "DefinitionSet", "FhirIssue", "FhirValidator", "parse_fhir_xml"]

_LAZY = {
    "DefinitionSet": "conformance.fhir.definitions",
    "parse_fhir_xml": "conformance.fhir.fhir_xml",
    "FhirIssue": "conformance.fhir.validator",
    "FhirValidator": "conformance.fhir.validator",
}


def __getattr__(name: str) -> Any:
    # lazy: importing conformance.fhir (e.g. for RESOURCE_TYPES) stays cheap
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(module), name)

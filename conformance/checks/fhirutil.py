"""Small helpers for reading FHIR JSON in checks (no allocation on the common path)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def identifiers(resource: dict[str, Any], system: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(index, identifier)`` for each identifier of ``resource`` with ``system``."""
    ids = resource.get("identifier")
    if not isinstance(ids, list):
        return
    for index, ident in enumerate(ids):
        if isinstance(ident, dict) and ident.get("system") == system:
            yield index, ident


def extensions(element: dict[str, Any], url: str) -> Iterator[tuple[int, dict[str, Any]]]:
    exts = element.get("extension")
    if not isinstance(exts, list):
        return
    for index, ext in enumerate(exts):
        if isinstance(ext, dict) and ext.get("url") == url:
            yield index, ext


def codings(concept: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    if not isinstance(concept, dict):
        return
    items = concept.get("coding")
    if not isinstance(items, list):
        return
    for index, coding in enumerate(items):
        if isinstance(coding, dict):
            yield index, coding

"""Helpers shared by the FHIR engine tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).parent
EXAMPLES = HERE / "examples"
FIXTURES = HERE / "fixtures"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((EXAMPLES / "valid" / name).read_bytes())
    return data


def errors(issues: list[Any]) -> list[Any]:
    return [i for i in issues if i.severity == "error"]


def codes(issues: list[Any]) -> set[str]:
    return {i.code for i in issues if i.severity == "error"}


PROFILE_BASE = "http://example.org/fhir/StructureDefinition/"


def profile(
    name: str,
    type_: str,
    elements: list[dict[str, Any]],
    kind: str = "resource",
) -> dict[str, Any]:
    """A small constraint StructureDefinition on a core type, by its differential
    (``id`` and ``path`` of each element written out; ``path`` derived from ``id`` when
    left out)."""
    for e in elements:
        e.setdefault("path", ".".join(p.split(":")[0] for p in e["id"].split(".")))
    return {
        "resourceType": "StructureDefinition",
        "url": PROFILE_BASE + name,
        "name": name,
        "status": "active",
        "kind": kind,
        "abstract": False,
        "type": type_,
        "baseDefinition": f"http://hl7.org/fhir/StructureDefinition/{type_}",
        "derivation": "constraint",
        "differential": {"element": elements},
    }

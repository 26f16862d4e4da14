"""Shared fixtures for the FHIRPath tests: copied invariants and example resources."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.fhir.fhirpath._model import model
from conformance.fhir.fhirpath._navigation import emit

HERE = Path(__file__).parent

Walker = Callable[[dict[str, Any]], list[tuple[Any, str]]]


@pytest.fixture(scope="session")
def invariants() -> dict[str, list[dict[str, Any]]]:
    data: dict[str, list[dict[str, Any]]] = json.loads((HERE / "invariants.json").read_text())
    return data


@pytest.fixture(scope="session")
def examples() -> dict[str, dict[str, Any]]:
    return {
        p.name: json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((HERE / "examples").glob("*.json"))
    }


def walk(resource: dict[str, Any]) -> list[tuple[Any, str]]:
    """Every element node of ``resource`` with its element path (``Owner.name``), not
    descending into contained or entry resources (they are evaluated on their own)."""
    tm = model()
    root = (resource, resource.get("resourceType"), None)
    out: list[tuple[Any, str]] = [(root, str(root[1]))]
    stack = [root]
    while stack:
        v, t, _ = stack.pop()
        if type(v) is not dict:
            continue
        table = tm.elements.get(t) or {} if t else {}
        choices = tm.choices.get(t) or {} if t else {}
        for k, cv in v.items():
            if k == "resourceType" or k.startswith("_"):
                continue
            items: list[Any] = []
            is_complex = type(cv) is dict or (type(cv) is list and cv and type(cv[0]) is dict)
            emit(items, cv, table.get(k), None if is_complex else v.get("_" + k))
            stem = k
            for c, codes in choices.items():
                if k.startswith(c) and k[len(c) :] in {x[0].upper() + x[1:] for x in codes}:
                    stem = c + "[x]"
            for it in items:
                if type(it[0]) is dict and "resourceType" in it[0]:
                    continue
                out.append((it, f"{t}.{stem}"))
                stack.append(it)
    return out


def resources(top: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(resource, root resource) pairs: the resource, its contained ones, Bundle entries."""
    yield top, top
    for c in top.get("contained") or ():
        yield c, top
    if top.get("resourceType") == "Bundle":
        for entry in top.get("entry") or ():
            res = entry.get("resource")
            if isinstance(res, dict):
                yield from resources(res)


Resources = Callable[[dict[str, Any]], Iterator[tuple[dict[str, Any], dict[str, Any]]]]


@pytest.fixture(scope="session")
def walker() -> Walker:
    return walk


@pytest.fixture(scope="session")
def resource_pairs() -> Resources:
    return resources

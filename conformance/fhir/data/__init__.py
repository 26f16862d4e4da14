"""The R4 core data shipped with the package (built by tools/build_fhir_definitions.py).

``r4.json.gz``: types, elements, invariants and bound value set expansions (loaded on
first use of the base model); ``r4-terminology.json.gz``: every expandable core value set
and complete core code system; ``r4-profiles.json.gz``: the core profiles and extension
definitions. Each is read once per process, when first needed.
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources
from typing import Any

import orjson

from conformance.fhir.terminology import CodeSystemInfo, Expansion


def _read_gz(name: str) -> Any:
    raw = resources.files(__name__).joinpath(name).read_bytes()
    return orjson.loads(gzip.decompress(raw))


@cache
def core_data() -> dict[str, Any]:
    """The precompiled core model (types, invariants, bound value set expansions)."""
    data: dict[str, Any] = _read_gz("r4.json.gz")
    return data


@cache
def core_terminology() -> dict[str, Any]:
    """All expandable core value sets and complete core code systems (loaded on demand)."""
    data: dict[str, Any] = _read_gz("r4-terminology.json.gz")
    return data


@cache
def core_profiles() -> dict[str, dict[str, Any]]:
    """Core profiles and extension definitions, by canonical URL (loaded on demand)."""
    return {p["url"]: p for p in _read_gz("r4-profiles.json.gz")["profiles"]}


@cache
def core_codesystem(url: str) -> CodeSystemInfo | None:
    cs = core_terminology()["codesystems"].get(url)
    return None if cs is None else CodeSystemInfo.from_json(url, cs)


@cache
def core_expansion(url: str) -> Expansion | None:
    vs = core_data()["valuesets"].get(url)
    if vs is None:
        vs = core_terminology()["valuesets"].get(url)
    if vs is None:
        return None
    return {system: frozenset(codes) for system, codes in vs.items()}

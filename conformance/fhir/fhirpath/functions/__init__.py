"""FHIRPath functions, one module per section of the specification (§5, §7) and one for
the functions FHIR adds; :data:`FUNCTIONS` maps every function name to its compiler."""

from __future__ import annotations

from typing import Final

from .._compiled import FunctionSpec
from ..operators import boolean, types
from . import (
    aggregates,
    combining,
    conversion,
    existence,
    fhir,
    filtering,
    math,
    strings,
    subsetting,
    tree,
    utility,
)


def _merge(*tables: dict[str, FunctionSpec]) -> dict[str, FunctionSpec]:
    merged: dict[str, FunctionSpec] = {}
    for table in tables:
        for name, spec in table.items():
            if name in merged:  # pragma: no cover - a programming error
                raise ValueError(f"FHIRPath function {name}() is defined twice")
            merged[name] = spec
    return merged


FUNCTIONS: Final = _merge(
    existence.FUNCTIONS,
    filtering.FUNCTIONS,
    subsetting.FUNCTIONS,
    combining.FUNCTIONS,
    conversion.FUNCTIONS,
    strings.FUNCTIONS,
    math.FUNCTIONS,
    tree.FUNCTIONS,
    utility.FUNCTIONS,
    aggregates.FUNCTIONS,
    types.FUNCTIONS,
    boolean.FUNCTIONS,
    fhir.FUNCTIONS,
)

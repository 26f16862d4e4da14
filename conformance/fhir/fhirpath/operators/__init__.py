"""FHIRPath §6 Operations, one module per section; :data:`BINARY` maps each binary
operator to its compiler."""

from __future__ import annotations

from typing import Final

from .._compiled import BinaryBuilder
from . import boolean, collections, comparison, equality, math

BINARY: Final[dict[str, BinaryBuilder]] = {
    **equality.OPERATORS,
    **comparison.OPERATORS,
    **collections.OPERATORS,
    **boolean.OPERATORS,
    **math.OPERATORS,
}

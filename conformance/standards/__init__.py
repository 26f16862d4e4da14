"""Standards: the versioned YAML format, its loader and reference resolution."""

from conformance.standards.model import CheckSpec, DataItem, Domain, Level, Requirement, Standard
from conformance.standards.registry import StandardRegistry, embedded_standards_root

__all__ = [
    "CheckSpec",
    "DataItem",
    "Domain",
    "Level",
    "Requirement",
    "Standard",
    "StandardRegistry",
    "embedded_standards_root",
]

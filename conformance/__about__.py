"""The version of conformance (single source for the package metadata)."""

__version__ = "0.1.0"

"""Exceptions of the FHIR package."""

from __future__ import annotations


class DefinitionError(Exception):
    """A conformance resource (profile, value set, package) could not be loaded."""

"""Limits that keep a run safe on hostile input. Each is reported when hit, never silent."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    max_line_bytes: int = 32 * 1024 * 1024
    """Longest NDJSON line (or whole JSON/XML file) read; longer is an unparseable record."""
    max_file_bytes: int = 512 * 1024 * 1024
    """Largest single JSON or XML document parsed whole (NDJSON streams and has no limit)."""
    max_depth: int = 128
    """Deepest JSON nesting accepted (FHIR resources rarely exceed 20)."""
    max_decompressed_bytes: int = 64 * 1024 * 1024 * 1024
    """Most bytes one compressed input may expand to."""
    max_ratio: int = 1000
    """Largest decompression ratio accepted once past 16 MiB of output (zip/gzip bombs)."""
    max_files: int = 100_000
    """Most files read from the inputs (directories, archives) in one run."""
    findings_per_requirement: int = 100
    """Example findings kept per requirement in the scorecard; counts stay exact."""

"""Limits that keep a run safe on hostile input. Each is reported when hit, never silent.

Every limit can be changed for one run: ``conformance validate --limit NAME=VALUE``
(repeatable; sizes take a ``K``, ``M`` or ``G`` suffix for KiB, MiB, GiB), or
``Limits(...)`` / :func:`parse_limits` from the library. What happens when each is hit:

- ``max-line-bytes``: the NDJSON line is one unparseable record (``line-too-long``);
- ``max-file-bytes``: the JSON document is one unparseable record (``file-too-large``);
- ``max-depth``: the record is unparseable (``too-deep``);
- ``max-elements``: the record is unparseable (``too-many-elements``; XML: ``invalid-xml``);
- ``max-decompressed-bytes``: reading the gzip input (or extracting the archive) stops
  there (``limit-exceeded``, with the line); the records before it are kept;
- ``max-ratio``: the same, for a decompression ratio above it once past 16 MiB of output;
- ``max-files``: the files beyond it are not read (``limit-exceeded``);
- ``findings-per-requirement``: examples beyond it are not kept; the counts stay exact.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass

from conformance.errors import UsageError


@dataclass(frozen=True, slots=True)
class Limits:
    max_line_bytes: int = 32 * 1024 * 1024
    """Longest NDJSON line (or whole JSON/XML file) read; longer is an unparseable record."""
    max_file_bytes: int = 512 * 1024 * 1024
    """Largest single JSON or XML document parsed whole (NDJSON streams and has no limit)."""
    max_depth: int = 128
    """Deepest JSON nesting accepted (FHIR resources rarely exceed 20)."""
    max_elements: int = 1_000_000
    """Most elements in one resource or Bundle entry (XML elements; JSON objects and
    arrays), so that memory stays bounded by the input's size."""
    max_decompressed_bytes: int = 64 * 1024 * 1024 * 1024
    """Most bytes one compressed input (or one archive) may expand to."""
    max_ratio: int = 1000
    """Largest decompression ratio accepted once past 16 MiB of output (zip/gzip bombs)."""
    max_files: int = 100_000
    """Most files read from the inputs (directories, archives) in one run."""
    findings_per_requirement: int = 100
    """Example findings kept per requirement in the scorecard; counts stay exact."""


LIMIT_NAMES: tuple[str, ...] = tuple(f.name.replace("_", "-") for f in dataclasses.fields(Limits))
"""The names ``--limit`` accepts (the field names, with dashes or underscores)."""

_MINIMUM = {"findings_per_requirement": 0}
_MAXIMUM = 2**53
"""Largest value any limit takes (larger means no limit in practice, and must not
overflow the sizes the readers pass to the operating system)."""
_VALUE = re.compile(r"(\d+)([kmg]?)(?:i?b)?", re.IGNORECASE)
_SCALE = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_limits(settings: Iterable[str], base: Limits | None = None) -> Limits:
    """``base`` (default: the defaults) with ``NAME=VALUE`` settings applied.

    Raises :class:`UsageError` naming the setting on an unknown name or a bad value.
    """
    changes: dict[str, int] = {}
    for setting in settings:
        name, sep, raw = setting.partition("=")
        key = name.strip().replace("-", "_")
        if not sep or key.replace("_", "-") not in LIMIT_NAMES:
            raise UsageError(
                f"--limit {setting}: expected NAME=VALUE with NAME one of {', '.join(LIMIT_NAMES)}"
            )
        match = _VALUE.fullmatch(raw.strip())
        if match is None or len(match.group(1)) > 18:
            raise UsageError(
                f"--limit {name}: the value must be a whole number up to {_MAXIMUM} (K, M, G)"
            )
        value = int(match.group(1)) * _SCALE[match.group(2).lower()]
        if value > _MAXIMUM:
            raise UsageError(f"--limit {name}: must be at most {_MAXIMUM}")
        if value < _MINIMUM.get(key, 1):
            raise UsageError(f"--limit {setting}: must be at least {_MINIMUM.get(key, 1)}")
        changes[key] = value
    return dataclasses.replace(base or Limits(), **changes)

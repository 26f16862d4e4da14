"""The catalogue of finding codes: every code a finding can carry, as data.

A finding's ``code`` (``nhs-number-check-digit``) is what baselines fingerprint, what
dashboards count and what a reader looks up, so a code is part of the API: it is
registered with a title, a description and a default severity; it is never removed; a
rename is a deprecation that keeps the old code registered, with ``replaced_by``.

The built-in codes are JSON files in ``conformance/codes/catalogue/``, one per area,
registered (like a third-party plugin's codes) through the ``conformance_finding_codes``
hook by :mod:`conformance.codes.builtin`. At the end of a run the engine checks every
code the run emitted against the run's catalogue (:func:`unregistered_codes`).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.findings import Severity

CODE_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
"""A finding code: kebab-case (the scorecard schema's pattern)."""
CATALOGUE = Path(__file__).parent / "catalogue"
"""The built-in codes: one JSON file per area (``identity.json``...)."""
STRICT_ENV = "CONFORMANCE_STRICT_CODES"
"""When set (as the test suite does), an unregistered code ends the run with an error."""

__all__ = [
    "CATALOGUE",
    "CODE_PATTERN",
    "STRICT_ENV",
    "Catalogue",
    "DuplicateCode",
    "FindingCode",
    "UnregisteredCode",
    "builtin_codes",
    "strict",
    "unregistered_codes",
]


@dataclass(frozen=True, slots=True)
class FindingCode:
    """One finding code: what it means, and its default severity.

    ``severity`` is what the code is reported as under a MUST: ``error`` counts against
    the requirement and is reported at the requirement's level (warning under a SHOULD,
    information under a MAY); ``warning`` and ``information`` keep their own severity
    and do not fail a record.
    """

    code: str
    title: str
    description: str
    severity: Severity = Severity.ERROR
    area: str = ""
    """What emits it, e.g. ``input``, ``fhir``, ``identity``, or a plugin's name."""
    deprecated: bool = False
    """No longer emitted (kept so that old scorecards and baselines still resolve)."""
    replaced_by: str | None = None
    """For a renamed code: the code now emitted instead."""

    def __post_init__(self) -> None:
        if not CODE_PATTERN.fullmatch(self.code):
            raise ValueError(f"finding code {self.code!r} is not kebab-case")
        if not self.title.strip() or not self.description.strip():
            raise ValueError(f"finding code {self.code!r} needs a title and a description")
        if self.replaced_by is not None and not self.deprecated:
            raise ValueError(f"finding code {self.code!r} has replaced_by but is not deprecated")


class DuplicateCode(ValueError):
    """Two registrations of the same finding code."""


class UnregisteredCode(Exception):
    """A run emitted a code that no plugin registered (raised in strict mode only)."""


class Catalogue(Mapping[str, FindingCode]):
    """The finding codes one run knows, with who registered each."""

    def __init__(self, entries: Iterable[tuple[str, FindingCode]] = ()) -> None:
        self._codes: dict[str, FindingCode] = {}
        self._owners: dict[str, str] = {}
        for owner, entry in entries:
            self.add(entry, owner)

    def add(self, entry: FindingCode, owner: str) -> None:
        first = self._owners.get(entry.code)
        if first is not None:
            by = f"twice by {owner}" if first == owner else f"by both {first} and {owner}"
            raise DuplicateCode(f"finding code '{entry.code}' is registered {by}")
        self._codes[entry.code] = entry
        self._owners[entry.code] = owner

    def owner(self, code: str) -> str:
        return self._owners[code]

    def problems(self) -> list[str]:
        """What is inconsistent: a ``replaced_by`` naming no registered, current code."""
        out = []
        for entry in self._codes.values():
            target = self._codes.get(entry.replaced_by) if entry.replaced_by else None
            if entry.replaced_by and (target is None or target.deprecated):
                out.append(
                    f"finding code '{entry.code}' is replaced by '{entry.replaced_by}', "
                    "which is not a registered current code"
                )
        return out

    def __getitem__(self, code: str) -> FindingCode:
        return self._codes[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._codes)

    def __len__(self) -> int:
        return len(self._codes)


def strict() -> bool:
    return os.environ.get(STRICT_ENV, "") not in ("", "0")


_FIELDS = {
    "title": str,
    "description": str,
    "severity": str,
    "deprecated": bool,
    "replaced_by": str,
}


def _entry(where: str, code: str, fields: Any) -> FindingCode:
    if not isinstance(fields, dict):
        raise ValueError(f"{where}: {code}: expected an object")
    for key, value in fields.items():
        kind = _FIELDS.get(key)
        if kind is None:
            raise ValueError(f"{where}: {code}.{key}: unknown key (known: {', '.join(_FIELDS)})")
        if not isinstance(value, kind):
            raise ValueError(f"{where}: {code}.{key}: must be a {kind.__name__}")
    try:
        return FindingCode(
            code,
            fields["title"],
            fields["description"],
            Severity(fields.get("severity", "error")),
            where.rsplit("/", 1)[-1].removesuffix(".json"),
            fields.get("deprecated", False),
            fields.get("replaced_by"),
        )
    except KeyError as exc:
        raise ValueError(f"{where}: {code}: missing key {exc}") from None
    except ValueError as exc:
        raise ValueError(f"{where}: {code}: {exc}") from None


@functools.cache
def builtin_codes() -> tuple[FindingCode, ...]:
    """The codes conformance itself emits: ``catalogue/<area>.json``, read once per process.

    JSON rather than YAML: the catalogue is read at the end of every run that has
    findings, and orjson reads it in well under a millisecond.
    """
    import orjson

    found: list[FindingCode] = []
    for path in sorted(CATALOGUE.glob("*.json")):
        where = f"conformance/codes/catalogue/{path.name}"
        data = orjson.loads(path.read_bytes())
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object of codes")
        found += (_entry(where, code, fields) for code, fields in data.items())
    return tuple(found)


def unregistered_codes(
    emitted: Mapping[str, Iterable[str]], catalogue: Mapping[str, FindingCode]
) -> list[tuple[str, str]]:
    """``(requirement, code)`` for every emitted code the catalogue does not hold."""
    return [
        (requirement, code)
        for requirement, codes in emitted.items()
        for code in sorted(codes)
        if code not in catalogue
    ]

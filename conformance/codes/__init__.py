"""The catalogue of finding codes: every code a finding can carry, as data.

A finding's ``code`` (``nhs-number-check-digit``) is what baselines fingerprint, what
dashboards count and what a reader looks up, so a code is part of the API: it is
registered with a title, a description and a default severity; it is never removed; a
rename is a deprecation that keeps the old code registered, with ``replaced_by``.

The built-in codes are YAML files in ``conformance/codes/catalogue/``, one per area,
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
from importlib import resources
from typing import Any

from conformance.findings import Severity

CODE_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
"""A finding code: kebab-case (the scorecard schema's pattern)."""
STRICT_ENV = "CONFORMANCE_STRICT_CODES"
"""When set (as the test suite does), an unregistered code ends the run with an error."""

__all__ = [
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


_FIELDS = {"title", "description", "severity", "deprecated", "replaced_by"}


def _entry(area: str, code: str, data: Any) -> FindingCode:
    where = f"conformance/codes/catalogue/{area}.yaml: {code}"
    if not isinstance(data, dict) or not _FIELDS.issuperset(data):
        raise ValueError(f"{where}: expected a mapping with keys from {sorted(_FIELDS)}")
    try:
        return FindingCode(
            code,
            str(data["title"]).strip(),
            " ".join(str(data["description"]).split()),
            Severity(data.get("severity", "error")),
            area,
            bool(data.get("deprecated", False)),
            data.get("replaced_by"),
        )
    except (KeyError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None


@functools.cache
def builtin_codes() -> tuple[FindingCode, ...]:
    """The codes conformance itself emits, from the catalogue's YAML files, by area."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    folder = resources.files("conformance.codes").joinpath("catalogue")
    found: list[FindingCode] = []
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if not item.name.endswith(".yaml"):
            continue
        area = item.name.removesuffix(".yaml")
        data = yaml.load(item.read_text(encoding="utf-8"), Loader=loader) or {}
        found.extend(_entry(area, str(code), entry) for code, entry in data.items())
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

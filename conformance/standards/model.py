"""The in-memory form of a standard: plain, frozen data."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.findings import Severity


class Level(enum.StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"

    @property
    def severity(self) -> Severity:
        """The severity of a finding against a requirement of this level."""
        return _SEVERITY[self]

    @property
    def weight(self) -> int:
        """Weight in the interoperability score (see the README)."""
        return _WEIGHT[self]


_SEVERITY = {
    Level.MUST: Severity.ERROR,
    Level.SHOULD: Severity.WARNING,
    Level.MAY: Severity.INFORMATION,
}
_WEIGHT = {Level.MUST: 3, Level.SHOULD: 2, Level.MAY: 1}


@dataclass(frozen=True, slots=True)
class CheckSpec:
    type: str
    params: dict[str, Any]
    line: int | None = None
    """Line of the ``check`` key in standard.yaml, for error messages."""


@dataclass(frozen=True, slots=True)
class Requirement:
    id: str
    title: str
    level: Level
    domain: str
    rationale: str
    source: str
    check: CheckSpec
    applies_to: tuple[str, ...] = ()
    threshold: float | None = None
    measure: str | None = None
    status: str = "active"
    replaced_by: str | None = None
    origin: str = ""
    """The standard (id@version) that defined this requirement (differs under extends)."""

    @property
    def effective_threshold(self) -> float:
        return 1.0 if self.threshold is None else self.threshold


@dataclass(frozen=True, slots=True)
class Domain:
    id: str
    title: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class DataItem:
    """A data item scored for dataset completeness, DQMI-style."""

    id: str
    resource: str
    path: str
    defaults: tuple[str, ...] = ()
    default_threshold: float = 0.0


@dataclass(frozen=True, slots=True)
class Standard:
    id: str
    version: str
    title: str
    status: str
    fhir_version: str
    publisher: str
    requirements: tuple[Requirement, ...]
    path: Path
    description: str = ""
    effective_from: str | None = None
    effective_to: str | None = None
    extends: str | None = None
    domains: tuple[Domain, ...] = ()
    changelog: tuple[dict[str, Any], ...] = ()
    profiles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    data_items: tuple[DataItem, ...] = ()
    folders: tuple[Path, ...] = ()
    """This standard's folder, then those of the standards it extends.

    Each may hold ``profiles/``, ``terminology/`` and ``tables/``.
    """

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    def requirement(self, requirement_id: str) -> Requirement:
        for req in self.requirements:
            if req.id == requirement_id:
                return req
        raise KeyError(requirement_id)

    def domain_title(self, domain_id: str) -> str:
        for dom in self.domains:
            if dom.id == domain_id:
                return dom.title
        return domain_id.replace("-", " ").capitalize()

    def table_schema(self, name: str) -> Path | None:
        """The JSON Schema of a table, searched in this standard then the ones it extends."""
        for folder in self.folders:
            candidate = folder / "tables" / f"{name}.schema.json"
            if candidate.is_file():
                return candidate
        return None

    def resource_folders(self, kind: str) -> list[Path]:
        """Existing ``profiles/`` or ``terminology/`` folders of this standard and its bases."""
        return [f / kind for f in self.folders if (f / kind).is_dir()]

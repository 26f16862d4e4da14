"""Findings: what a check says about a feed, as plain data.

A finding has a stable kebab-case ``code`` (what kind of problem), the ``requirement``
it counts against, a ``severity``, a human ``message`` and an exact ``location``. The
message is a template: the offending value, if any, sits in ``value`` and is inserted
*masked* unless the caller explicitly asks for values (local terminal output only).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from conformance.privacy import mask, scrub


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFORMATION = "information"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFORMATION: 2}


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding is: a file, and within it a line, a Bundle entry, a CSV row, an element."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    entry: int | None = None
    row: int | None = None
    expression: str | None = None

    def at(self, expression: str | None) -> Location:
        """The same place, narrowed to an element (a FHIRPath-style expression)."""
        return Location(self.file, self.line, self.column, self.entry, self.row, expression)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("file", "line", "column", "entry", "row", "expression"):
            val = getattr(self, key)
            if val is not None:
                # A file name can carry an identifier (MDSS-SEC-01 reports it): mask it here too.
                out[key] = scrub(val) if isinstance(val, str) else val
        return out

    def __str__(self) -> str:
        text = self.file or "<feed>"
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        if self.row is not None:
            text += f" row {self.row}"
        if self.entry is not None:
            text += f" entry[{self.entry}]"
        if self.expression:
            text += f" {self.expression}"
        return text


@dataclass(slots=True)
class Finding:
    """One problem found in a feed."""

    requirement: str
    severity: Severity
    code: str
    message: str
    location: Location = field(default_factory=Location)
    resource_type: str | None = None
    resource_id: str | None = None
    value: str | None = None
    """The offending value, kept out of every output unless values are explicitly shown."""
    value_kind: str = "text"

    def render_message(self, show_values: bool = False) -> str:
        if self.value is None:
            return scrub(self.message, masked=not show_values)
        shown = self.value if show_values else mask(self.value, self.value_kind)
        return scrub(self.message.replace("{value}", shown), masked=not show_values)

    def to_dict(self, show_values: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "requirement": self.requirement,
            "severity": str(self.severity),
            "code": self.code,
            "message": self.render_message(show_values),
            "location": self.location.to_dict(),
        }
        if self.resource_type is not None:
            out["resource_type"] = self.resource_type
        if self.resource_id is not None:
            out["resource_id"] = scrub(self.resource_id, masked=not show_values)
        return out


@dataclass(frozen=True, slots=True)
class Problem:
    """What a record-level check reports; the engine turns it into a :class:`Finding`."""

    code: str
    message: str
    expression: str | None = None
    value: str | None = None
    value_kind: str = "text"
    severity: Severity | None = None
    """Overrides the severity implied by the requirement's level (e.g. information)."""

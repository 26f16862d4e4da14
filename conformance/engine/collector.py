"""Collect findings with exact counts and a capped number of kept examples.

Kept examples are stored as plain tuples (:data:`Kept`), not :class:`Finding` objects:
collectors travel in shares between processes, and tuples pickle smaller and unpickle
many times faster. :meth:`FindingCollector.all_kept` gives them as findings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from conformance.checks.base import Emit
from conformance.findings import Finding, Location, Problem, Severity

Kept = tuple[
    Severity,
    str,  # code
    str,  # message
    str | None,  # file
    int | None,  # line
    int | None,  # column
    int | None,  # entry
    int | None,  # row
    str | None,  # expression
    str | None,  # resource type
    str | None,  # resource id
    str | None,  # value
    str,  # value kind
]
"""One kept finding of a requirement, as plain data (its fields in :class:`Finding` order,
the location's spread out)."""


class FindingCollector:
    """Counts every finding; keeps the first ``cap`` examples per requirement."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.kept: dict[str, list[Kept]] = {}
        self.by_severity: dict[str, Counter[str]] = {}
        self.by_code: dict[str, Counter[str]] = {}

    def emitter(self, requirement: str, severity: Severity) -> Emit:
        """An :class:`Emit` bound to one requirement and its default severity."""
        by_severity = self.by_severity.setdefault(requirement, Counter())
        by_code = self.by_code.setdefault(requirement, Counter())
        kept = self.kept.setdefault(requirement, [])
        cap = self.cap

        def emit(
            problem: Problem,
            location: Location,
            resource_type: str | None = None,
            resource_id: str | None = None,
        ) -> None:
            sev = problem.severity or severity
            by_severity[sev] += 1
            by_code[problem.code] += 1
            if len(kept) < cap:
                kept.append(
                    (
                        sev,
                        problem.code,
                        problem.message,
                        location.file,
                        location.line,
                        location.column,
                        location.entry,
                        location.row,
                        location.expression,
                        resource_type,
                        resource_id,
                        problem.value,
                        problem.value_kind,
                    )
                )

        return emit

    def merge(self, other: FindingCollector) -> None:
        """Fold another collector in (from a parallel worker), keeping counts exact."""
        for req, counter in other.by_severity.items():
            self.by_severity.setdefault(req, Counter()).update(counter)
        for req, counter in other.by_code.items():
            self.by_code.setdefault(req, Counter()).update(counter)
        for req, findings in other.kept.items():
            kept = self.kept.setdefault(req, [])
            kept.extend(findings[: max(0, self.cap - len(kept))])

    def total(self, requirement: str) -> int:
        return sum(self.by_severity.get(requirement, Counter()).values())

    def place_entries(self, entry_lines: Callable[[str], Sequence[int] | None]) -> None:
        """Give kept findings inside a Bundle's entries the line their entry starts on.

        ``entry_lines(file)`` gives the line of each entry of ``file``, or None when they
        cannot be known; it is called once per file that needs it.
        """
        lines_of: dict[str, Sequence[int] | None] = {}
        for kept in self.kept.values():
            for index, found in enumerate(kept):
                file, line, entry = found[3], found[4], found[6]
                if file is None or entry is None or line is not None:
                    continue
                if file not in lines_of:
                    lines_of[file] = entry_lines(file)
                lines = lines_of[file]
                if lines is not None and entry < len(lines):
                    kept[index] = (*found[:4], lines[entry], *found[5:])

    def all_kept(self, order: Callable[[Finding], Any] | None = None) -> list[Finding]:
        found = [
            Finding(
                req,
                sev,
                code,
                message,
                Location(file, line, column, entry, row, expression),
                rtype,
                rid,
                value,
                kind,
            )
            for req, kept in self.kept.items()
            for (
                sev,
                code,
                message,
                file,
                line,
                column,
                entry,
                row,
                expression,
                rtype,
                rid,
                value,
                kind,
            ) in kept
        ]
        if order is not None:
            found.sort(key=order)
        return found

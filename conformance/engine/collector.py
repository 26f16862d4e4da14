"""Collect findings with exact counts and a capped number of kept examples.

Kept examples are stored as plain tuples (:data:`Kept`), not :class:`Finding` objects:
collectors travel in shares between processes, and tuples pickle smaller and unpickle
many times faster. :meth:`FindingCollector.all_kept` gives them as findings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from mypy_extensions import mypyc_attr

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

LineFinder = Callable[[str, int | None, str | None, int | None], int | None]
"""The line of a kept finding the reader could not give, from its file, line, expression
and Bundle entry; None leaves the finding as it is."""


@mypyc_attr(serializable=True)  # pickled from workers: unpickling must not call __init__
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

    def places(self) -> Iterator[tuple[str, int | None, str | None, int | None]]:
        """(file, line, expression, Bundle entry) of each kept finding in a file."""
        for kept in self.kept.values():
            for found in kept:
                if found[3] is not None:
                    yield found[3], found[4], found[8], found[6]

    def place_lines(self, find: LineFinder) -> None:
        """Give kept findings the line ``find`` says they are on (see :data:`LineFinder`)."""
        for kept in self.kept.values():
            for index, found in enumerate(kept):
                file = found[3]
                if file is None:
                    continue
                placed = find(file, found[4], found[8], found[6])
                if placed is not None:
                    kept[index] = (*found[:4], placed, *found[5:])

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

"""Collect findings with exact counts and a capped number of kept examples."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from mypy_extensions import mypyc_attr

from conformance.checks.base import Emit
from conformance.findings import Finding, Location, Problem, Severity


@mypyc_attr(serializable=True)  # pickled from workers: unpickling must not call __init__
class FindingCollector:
    """Counts every finding; keeps the first ``cap`` examples per requirement."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.kept: dict[str, list[Finding]] = {}
        self.by_severity: dict[str, Counter[str]] = {}
        self.by_code: dict[str, Counter[str]] = {}

    def add(self, finding: Finding) -> None:
        req = finding.requirement
        self.by_severity.setdefault(req, Counter())[finding.severity] += 1
        self.by_code.setdefault(req, Counter())[finding.code] += 1
        kept = self.kept.setdefault(req, [])
        if len(kept) < self.cap:
            kept.append(finding)

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
                    Finding(
                        requirement,
                        sev,
                        problem.code,
                        problem.message,
                        location,
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

    def all_kept(self, order: Callable[[Finding], Any] | None = None) -> list[Finding]:
        found = [f for findings in self.kept.values() for f in findings]
        if order is not None:
            found.sort(key=order)
        return found

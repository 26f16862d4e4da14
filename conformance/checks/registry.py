"""A standard compiled with the check types a run knows.

:func:`compile_standard` turns every requirement of a standard into its compiled
:class:`~conformance.checks.base.Check`, once per run. It takes the check factories as a
plain mapping, so any registry of check types can feed it; :func:`compile_with_plugins`
feeds it the run's plugin registry (the built-ins included, through the same hook).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.checks.base import (
    Check,
    CheckFactory,
    CheckParamError,
    CompileEnv,
    FinishContext,
    Measure,
    RecordCheck,
    RunContext,
)
from conformance.errors import StandardError
from conformance.standards.model import Standard

if TYPE_CHECKING:
    from conformance.plugin.manager import Plugins

__all__ = [
    "CompiledStandard",
    "check_factories",
    "compile_standard",
    "compile_with_plugins",
    "records_only",
]


@dataclass(frozen=True, slots=True)
class CompiledStandard:
    """A standard with every requirement's check compiled, in the standard's order."""

    standard: Standard
    checks: tuple[Check[Any], ...]
    parse_check: Check[Any] | None
    """The check that accounts for unparseable records (``wants_unparseable``), if any."""


def check_factories(plugins: Plugins) -> dict[str, CheckFactory]:
    """Every check type the plugins register (a type registered twice is an error of the
    plugin registry, :attr:`conformance.plugin.registry.Registry.check_types`)."""
    return dict(plugins.registry.check_types)


def compile_standard(
    standard: Standard,
    factories: Mapping[str, CheckFactory],
    services: Mapping[str, object] | None = None,
) -> CompiledStandard:
    """Compile every requirement's check once; errors name standard.yaml and the line.

    ``services`` are shared objects the factories may use (e.g. the run's plugins, for
    check types that consult other hooks).
    """
    env = CompileEnv(standard, dict(services or {}))
    checks: list[Check[Any]] = []
    parse_check: Check[Any] | None = None
    where = standard.path / "standard.yaml"
    for req in standard.requirements:
        line = req.check.line or 0
        factory = factories.get(req.check.type)
        if factory is None:
            known = ", ".join(sorted(factories))
            raise StandardError(
                f"{where}:{line}: {req.id}: unknown check type '{req.check.type}' (known: {known})"
            )
        try:
            check = factory(req, req.check.params, env)
        except CheckParamError as exc:
            raise StandardError(f"{where}:{line}: {req.id}: check: {exc}") from None
        if check.wants_unparseable and parse_check is None:
            parse_check = check
        checks.append(check)
    return CompiledStandard(standard, tuple(checks), parse_check)


def compile_with_plugins(
    standard: Standard, plugins: Plugins, services: Mapping[str, object] | None = None
) -> CompiledStandard:
    """:func:`compile_standard` with the check types ``plugins`` register; the plugins are
    also a service (check types such as terminology consult other hooks), beside
    ``services``."""
    return compile_standard(
        standard, check_factories(plugins), {**(services or {}), "plugins": plugins}
    )


class NotApplicable(Check[None]):
    """A requirement left out of a run: it visits nothing and is not applicable."""

    applies_to = frozenset[str]()

    def __init__(self, check: Check[Any], note: str) -> None:
        super().__init__(check.requirement)
        self.applies_to = frozenset()
        self.note = note

    def start(self, context: RunContext) -> None:
        return None

    def merge(self, state: None, other: None) -> None:
        return None

    def finish(self, state: None, context: FinishContext, emit: Any) -> Measure:
        return Measure(status="not-applicable", note=self.note)


def is_record_level(check: Check[Any]) -> bool:
    """Whether a check judges each record on its own (a :class:`RecordCheck`, or the
    check accounting for unparseable records); any other measures a feed as a whole."""
    return isinstance(check, RecordCheck) or check.wants_unparseable


def records_only(compiled: CompiledStandard) -> CompiledStandard:
    """The standard with its feed-level requirements not applicable: files judged record
    by record (loose files, outside any feed)."""
    note = "a feed-level requirement: not applicable to files judged record by record"
    checks = tuple(c if is_record_level(c) else NotApplicable(c, note) for c in compiled.checks)
    return CompiledStandard(compiled.standard, checks, compiled.parse_check)

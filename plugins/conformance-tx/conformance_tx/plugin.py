"""Hooks: the terminology service and the ``tx-code-membership`` check type."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from conformance.plugin import (
    Check,
    CheckParamError,
    CodeVerdict,
    CompileEnv,
    Emit,
    FindingCode,
    Location,
    Measure,
    Problem,
    Record,
    Requirement,
    RunContext,
    Severity,
    Standard,
    TerminologyService,
    TerminologyServices,
    hookimpl,
    param,
    terminology_services,
)
from conformance_tx.service import SERVER_ENV, TxService

FINDING_CODES: Final = (
    FindingCode(
        "code-not-in-value-set",
        "Code not in the value set",
        "A coded element's code is not in the value set the requirement names, as the run's "
        "terminology services (a FHIR terminology server, its cache, or offline "
        "definitions) say (check type `tx-code-membership`).",
        area="conformance-tx",
    ),
    FindingCode(
        "terminology-fallback",
        "Terminology service fell back",
        "A terminology service could not answer as configured (the server was unreachable, "
        "or a terminology plugin failed and was left out); the codes were judged from the "
        "cache or offline definitions, or not at all (check type `tx-code-membership`).",
        Severity.WARNING,
        area="conformance-tx",
    ),
)


@hookimpl
def conformance_finding_codes() -> Sequence[FindingCode]:
    return FINDING_CODES


@hookimpl
def conformance_terminology(standard: Standard) -> TerminologyService:
    return TxService(
        os.environ.get(SERVER_ENV) or None,
        offline_folders=standard.resource_folders("terminology"),
    )


def _values(resource: Any, path: Sequence[str]) -> Iterator[tuple[str, Any]]:
    """``(expression, value)`` at a dotted path; lists are walked with their index."""
    items: list[tuple[str, Any]] = [(str(resource.get("resourceType")), resource)]
    for name in path:
        nxt: list[tuple[str, Any]] = []
        for where, value in items:
            child = value.get(name) if type(value) is dict else None
            if type(child) is list:
                nxt.extend((f"{where}.{name}[{i}]", c) for i, c in enumerate(child))
            elif child is not None:
                nxt.append((f"{where}.{name}", child))
        items = nxt
    return iter(items)


def _codings(value: Any, system: str | None) -> list[tuple[str, str]]:
    if type(value) is str:
        return [(system, value)] if system else []
    if type(value) is not dict:
        return []
    codings = value.get("coding") if "coding" in value else [value]
    return [
        (c["system"], c["code"])
        for c in codings or ()
        if type(c) is dict and type(c.get("system")) is str and type(c.get("code")) is str
    ]


@dataclass(slots=True)
class _State:
    passed: int = 0
    checked: int = 0
    undetermined: int = 0


class CodeMembership(Check):
    """Coded elements take a code from a value set, as the run's terminology services say."""

    def __init__(
        self,
        requirement: Requirement,
        services: TerminologyServices,
        value_set: str,
        resource_type: str,
        path: tuple[str, ...],
        system: str | None,
    ) -> None:
        super().__init__(requirement)
        self.services = services
        self.value_set = value_set
        self.path = path
        self.system = system
        if self.applies_to is None:
            self.applies_to = frozenset({resource_type})
        # A pure memo ((system, code) -> verdict): codes repeat heavily; bounded.
        self._memo: dict[tuple[str, str], CodeVerdict] = {}

    def start(self, context: RunContext) -> Any:
        return _State()

    def _verdict(self, system: str, code: str) -> CodeVerdict:
        key = (system, code)
        verdict = self._memo.get(key)
        if verdict is None:
            verdict = self.services.validate_code(self.value_set, system, code)
            if len(self._memo) < 65536:
                self._memo[key] = verdict
        return verdict

    def visit(self, state: Any, record: Record, emit: Emit) -> None:
        resource = record.resource
        if resource is None:
            return
        judged = False
        ok = True
        for where, value in _values(resource, self.path):
            codings = _codings(value, self.system)
            if not codings:
                continue
            verdicts = [self._verdict(s, c) for s, c in codings]
            if any(v.member for v in verdicts):
                judged = True
                continue
            if all(v.member is None for v in verdicts):
                continue  # nobody can tell: not counted against the record
            judged = True
            ok = False
            code = next(c for (s, c), v in zip(codings, verdicts, strict=True) if v.member is False)
            emit(
                Problem(
                    "code-not-in-value-set",
                    f"the code {{value}} is not in the value set {self.value_set}",
                    where,
                    code,
                    "code",
                ),
                record.location.at(where),
                record.resource_type,
                record.resource_id,
            )
        if judged:
            state.checked += 1
            state.passed += ok
        elif any(True for _ in _values(resource, self.path)):
            state.undetermined += 1

    def merge(self, state: Any, other: Any) -> Any:
        state.passed += other.passed
        state.checked += other.checked
        state.undetermined += other.undetermined
        return state

    def finish(self, state: Any, context: RunContext, emit: Emit) -> Measure:
        for warning in self.services.warnings():
            emit(Problem("terminology-fallback", warning, severity=Severity.WARNING), Location())
        note = (
            (
                f"{state.undetermined} record(s) could not be judged (no terminology service "
                "could tell)"
            )
            if state.undetermined
            else None
        )
        return Measure(state.passed, state.checked, note=note)


def tx_code_membership(req: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check:
    value_set = param(params, "value_set", str)
    element = param(params, "element", str)
    system = param(params, "system", str, None)
    parts = element.split(".")
    if len(parts) < 2 or not parts[0][:1].isupper() or not all(parts):
        raise CheckParamError("parameter 'element' must look like Type.element[.child]")
    return CodeMembership(
        req, terminology_services(env), value_set, parts[0], tuple(parts[1:]), system
    )


@hookimpl
def conformance_check_types() -> Mapping[str, Any]:
    return {"tx-code-membership": tx_code_membership}

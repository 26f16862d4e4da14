"""Terminology requirements (MDSS-TERM-*): SNOMED CT ids, bindings, clinical coding, dm+d."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from conformance.checks.base import (
    Check,
    CheckParamError,
    CompileEnv,
    Emit,
    FinishContext,
    Measure,
    Place,
    RecordCheck,
    RunContext,
    Tally,
    located,
    param,
    place_of,
)
from conformance.checks.references import expression, reference_target, scan
from conformance.findings import Location, Problem
from conformance.nhs.snomed import sctid_problem
from conformance.nhs.systems import DMD_SYSTEM, LOINC_SYSTEM, SNOMED_SYSTEM
from conformance.readers.base import Record
from conformance.standards.model import Requirement

# --------------------------------------------------------------------------- TERM-01


class SnomedValid(RecordCheck):
    """MDSS-TERM-01: every SNOMED CT code is a syntactically valid concept id.

    Looks at every object in the resource whose ``system`` is SNOMED CT and that has a
    ``code`` (Codings wherever they are: ``code.coding``, ``valueCoding``, ``class``...).
    """

    _MEMO_LIMIT: Final = 65536

    def __init__(self, requirement: Requirement) -> None:
        super().__init__(requirement)
        # A pure memo (code -> problem): clinical codes repeat heavily; bounded.
        self._memo: dict[str, str | None] = {}

    def problems(self, resource: dict[str, Any]) -> Iterable[Problem]:
        memo = self._memo
        for node in scan(resource).snomed:
            code = node[3].get("code")
            if code is None:
                continue
            if type(code) is not str:
                problem: str | None = "not-digits"
            elif code in memo:
                problem = memo[code]
            else:
                problem = sctid_problem(code, concept=True)
                if len(memo) < self._MEMO_LIMIT:
                    memo[code] = problem
            if problem is not None:
                yield Problem(
                    f"snomed-{problem}",
                    f"the SNOMED CT code {{value}} is not a valid concept id ({problem})",
                    f"{expression(node)}.code",
                    str(code),
                    "code",
                )


# ------------------------------------------------------------------- TERM-02/03


class BindingCheck(RecordCheck):
    """MDSS-TERM-02/03: the FHIR engine's binding issues of one strength.

    Bindings of base R4, of the standard's profiles for the type and of those the resource
    declares. The issues come from the run's shared validation (``structure.fhir_validator``),
    the same result MDSS-STR-02 and -03 read, so each record is validated once.
    """

    def __init__(self, requirement: Requirement, shared: Any, code: str) -> None:
        super().__init__(requirement)
        self.shared = shared
        self.code = code

    def problems(self, resource: dict[str, Any]) -> Iterable[Problem]:
        code = self.code
        for issue in self.shared.issues(resource):
            if issue.code == code:
                given = rejected_value(resource, issue.expression)
                if given is None:
                    yield Problem(code, issue.message, issue.expression)
                else:  # the code itself only with --show-values (terminal, opt-in)
                    message = f"{issue.message}; given {{value}}"
                    yield Problem(code, message, issue.expression, given, "rejected code")


_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$")


def rejected_value(resource: dict[str, Any], expression: str | None) -> str | None:
    """The coded value at ``expression`` (``Patient.maritalStatus.coding[0]``) as text:
    a code, or ``system|code`` for each Coding; None when the path cannot be followed."""
    if not expression:
        return None
    steps = expression.split(".")
    if steps[0] == resource.get("resourceType"):
        steps = steps[1:]
    nodes: list[Any] = [resource]
    for step in steps:
        match = _STEP.match(step)
        if match is None:
            return None
        name, index = match.group(1), match.group(2)
        found: list[Any] = []
        for node in nodes:
            value = node.get(name) if isinstance(node, dict) else None
            items = value if isinstance(value, list) else [] if value is None else [value]
            found += items if index is None else items[int(index) : int(index) + 1]
        nodes = found
    texts = [t for node in nodes for t in _coded_texts(node)]
    return ", ".join(texts) if texts else None


def _coded_texts(node: Any) -> list[str]:
    if isinstance(node, (str, int, float)) and not isinstance(node, bool):
        return [str(node)]
    if not isinstance(node, dict):
        return []
    if "coding" in node and isinstance(node["coding"], list):
        return [t for coding in node["coding"] for t in _coded_texts(coding)]
    code = node.get("code")
    if not isinstance(code, str):
        return []
    system = node.get("system")
    return [f"{system}|{code}" if isinstance(system, str) else code]


# --------------------------------------------------------------------------- TERM-04

DEFAULT_CLINICAL_ELEMENTS: Final = {
    "Condition": ("code",),
    "Procedure": ("code",),
    "Observation": ("code",),
    "Encounter": ("reasonCode",),
}
DEFAULT_CLINICAL_SYSTEMS: Final = {"Observation": (SNOMED_SYSTEM, LOINC_SYSTEM)}


class ClinicalCoded(Check[Tally]):
    """MDSS-TERM-04: clinical concepts are coded in SNOMED CT (or LOINC for observations).

    A resource is judged when it has at least one of its clinical elements; it passes
    when each such concept has a coding from an accepted system.
    """

    def __init__(
        self,
        requirement: Requirement,
        elements: Mapping[str, tuple[str, ...]],
        systems: Mapping[str, tuple[str, ...]],
    ) -> None:
        super().__init__(requirement)
        self.plan: dict[str, tuple[tuple[str, str], ...]] = {
            rtype: tuple((name, f"{rtype}.{name}") for name in names)
            for rtype, names in elements.items()
        }
        self.systems = {
            rtype: frozenset(systems.get(rtype, (SNOMED_SYSTEM,))) for rtype in elements
        }
        if self.applies_to is None:
            self.applies_to = frozenset(elements)

    def visit(self, state: Tally, record: Record, emit: Emit) -> None:
        resource = record.resource
        assert resource is not None
        rtype = record.resource_type or ""
        plan = self.plan.get(rtype)
        if plan is None:
            return
        accepted = self.systems[rtype]
        judged = ok = False
        for name, where in plan:
            value = resource.get(name)
            if value is None:
                continue
            if not judged:
                judged = ok = True
            many = type(value) is list
            for index, concept in enumerate(value if many else (value,)):
                if type(concept) is not dict:
                    continue
                codings = concept.get("coding")
                if type(codings) is list and codings:
                    if any(
                        type(c) is dict and type(c.get("system")) is str and c["system"] in accepted
                        for c in codings
                    ):
                        continue
                    code, text = "clinical-code-not-snomed", "is not coded in SNOMED CT"
                else:
                    code, text = "clinical-code-text-only", "is text only (no SNOMED CT coding)"
                ok = False
                expression = f"{where}[{index}]" if many else where
                emit(
                    Problem(code, f"{expression} {text}", expression),
                    record.location.at(expression),
                    rtype,
                    record.resource_id,
                )
        if judged:
            state.checked += 1
            if ok:
                state.passed += 1


# --------------------------------------------------------------------------- TERM-05


@dataclass(slots=True)
class _Medications:
    coded: set[str] = field(default_factory=set)
    """``Medication/id`` of Medications in the feed coded with dm+d."""
    pending: list[tuple[str, Place, str | None]] = field(default_factory=list)
    """MedicationRequests naming a Medication not seen yet: (target, place, request id)."""
    checked: int = 0
    passed: int = 0


def _dmd_coded(concept: Any) -> bool:
    if type(concept) is not dict:
        return False
    codings = concept.get("coding")
    return type(codings) is list and any(
        type(c) is dict and c.get("system") == DMD_SYSTEM and c.get("code") for c in codings
    )


class MedicationDmd(Check[_Medications]):
    """MDSS-TERM-05: medications are coded with dm+d, directly or in the referenced Medication.

    A ``medicationReference`` to a contained Medication is judged at once; one to a
    Medication elsewhere in the feed is resolved at the end (only dm+d-coded Medication
    ids are kept).
    """

    def __init__(self, requirement: Requirement) -> None:
        super().__init__(requirement)
        self.applies_to = frozenset({"MedicationRequest", "Medication"})

    def start(self, context: RunContext) -> _Medications:
        return _Medications()

    def visit(self, state: _Medications, record: Record, emit: Emit) -> None:
        resource = record.resource
        assert resource is not None
        if record.resource_type == "Medication":
            if record.resource_id is not None and _dmd_coded(resource.get("code")):
                state.coded.add("Medication/" + record.resource_id)
            return
        state.checked += 1
        concept = resource.get("medicationCodeableConcept")
        where = "MedicationRequest.medicationCodeableConcept"
        if concept is not None:
            if _dmd_coded(concept):
                state.passed += 1
                return
            codings = concept.get("coding") if type(concept) is dict else None
            if type(codings) is list and codings:
                problem = Problem(
                    "medication-not-dmd", "the medication is coded, but not with dm+d", where
                )
            else:
                problem = Problem(
                    "medication-text-only", "the medication is text only (no dm+d coding)", where
                )
            emit(problem, record.location.at(where), record.resource_type, record.resource_id)
            return
        ref = resource.get("medicationReference")
        where = "MedicationRequest.medicationReference"
        text = ref.get("reference") if type(ref) is dict else None
        if type(text) is str and text.startswith("#"):
            for contained in resource.get("contained") or ():
                if (
                    type(contained) is dict
                    and contained.get("id") == text[1:]
                    and _dmd_coded(contained.get("code"))
                ):
                    state.passed += 1
                    return
            self._fail(emit, record.location.at(where), record.resource_id)
            return
        target = reference_target(text) if type(text) is str else None
        if target is not None and target.startswith("Medication/"):
            if target in state.coded:
                state.passed += 1
            else:
                state.pending.append((target, place_of(record.location), record.resource_id))
            return
        if ref is None:
            emit(
                Problem(
                    "medication-missing",
                    "the MedicationRequest names no medication",
                    "MedicationRequest.medication[x]",
                ),
                record.location.at("MedicationRequest.medication[x]"),
                record.resource_type,
                record.resource_id,
            )
            return
        self._fail(emit, record.location.at(where), record.resource_id)

    def _fail(self, emit: Emit, location: Location, rid: str | None) -> None:
        emit(
            Problem(
                "medication-not-dmd",
                "the referenced Medication is not in the feed or not coded with dm+d",
                location.expression,
            ),
            location,
            "MedicationRequest",
            rid,
        )

    def merge(self, state: _Medications, other: _Medications) -> _Medications:
        state.coded |= other.coded
        state.pending.extend(other.pending)
        state.checked += other.checked
        state.passed += other.passed
        return state

    def finish(self, state: _Medications, context: FinishContext, emit: Emit) -> Measure:
        passed = state.passed
        where = "MedicationRequest.medicationReference"
        for target, place, rid in state.pending:
            if target in state.coded:
                passed += 1
            else:
                self._fail(emit, located(place, where), rid)
        return Measure(passed, state.checked)


# ------------------------------------------------------------------------- factories


def snomed_valid(req: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
    return SnomedValid(req)


def _binding(code: str) -> Any:
    def factory(req: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
        from conformance.checks.structure import fhir_validator

        return BindingCheck(req, fhir_validator(env), code)

    return factory


def _names(params: Mapping[str, Any], key: str, default: Mapping[str, tuple[str, ...]]) -> Any:
    raw = param(params, key, dict, None)
    if raw is None:
        return dict(default)
    out: dict[str, tuple[str, ...]] = {}
    for rtype, names in raw.items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise CheckParamError(f"{key}.{rtype} must be a list of strings")
        out[str(rtype)] = tuple(names)
    return out


def clinical_coded(req: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
    elements = _names(params, "elements", DEFAULT_CLINICAL_ELEMENTS)
    systems = _names(params, "systems", DEFAULT_CLINICAL_SYSTEMS)
    return ClinicalCoded(req, elements, systems)


def medication_dmd(req: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
    return MedicationDmd(req)


CHECK_TYPES: dict[str, Any] = {
    "snomed-valid": snomed_valid,
    "binding-required": _binding("binding-required"),
    "binding-extensible": _binding("binding-extensible"),
    "clinical-coded": clinical_coded,
    "medication-dmd": medication_dmd,
}

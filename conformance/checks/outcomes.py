"""Outcome requirements (MDSS-OUT-*): PROMs and PREMs as QuestionnaireResponses, paired.

Hewitt recommendation 25c asks for outcome-focused data: patient-reported outcome and
experience measures collected before and after care, so that change can be measured.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.checks.base import (
    Check,
    CompileEnv,
    Emit,
    FinishContext,
    Measure,
    Place,
    RecordCheck,
    RunContext,
    located,
    place_of,
)
from conformance.checks.references import is_patient_reference
from conformance.findings import Problem
from conformance.readers.base import Record
from conformance.standards.model import Requirement

_QR = "QuestionnaireResponse"


class PromResponse(RecordCheck):
    """MDSS-OUT-01: each response names its questionnaire, patient, date and is completed."""

    def problems(self, resource: dict[str, Any]) -> Iterable[Problem]:
        questionnaire = resource.get("questionnaire")
        if type(questionnaire) is not str or not questionnaire:
            yield Problem(
                "questionnaire-missing",
                "QuestionnaireResponse.questionnaire does not name the questionnaire",
                "QuestionnaireResponse.questionnaire",
            )
        if not is_patient_reference(resource.get("subject")):
            yield Problem(
                "response-subject-missing",
                "QuestionnaireResponse.subject does not reference the patient",
                "QuestionnaireResponse.subject",
            )
        authored = resource.get("authored")
        if type(authored) is not str or not authored:
            yield Problem(
                "authored-missing",
                "QuestionnaireResponse.authored is missing",
                "QuestionnaireResponse.authored",
            )
        status = resource.get("status")
        if status != "completed":
            yield Problem(
                "response-not-completed",
                "QuestionnaireResponse.status is {value}, not completed",
                "QuestionnaireResponse.status",
                str(status),
                "code",
            )


def patient_key(subject: Any) -> str | None:
    """A stable key for the patient a response is about: the reference or the identifier."""
    if type(subject) is not dict:
        return None
    ref = subject.get("reference")
    if type(ref) is str and ref:
        return ref
    ident = subject.get("identifier")
    if type(ident) is dict and type(ident.get("value")) is str:
        return f"{ident.get('system')}|{ident['value']}"
    return None


# first authored date, paired?, where the first response is, its id
_Entry = list[Any]


@dataclass(slots=True)
class _Pairs:
    series: dict[tuple[str, str], _Entry] = field(default_factory=dict)
    """(patient, questionnaire) -> [first date, paired, location, resource id]."""


class PromPairs(Check[_Pairs]):
    """MDSS-OUT-02: patients' outcome measures come as baseline and follow-up pairs.

    A patient is *paired* when, for some questionnaire, the feed holds two completed
    responses authored on different dates. Measured over patients with at least one
    completed response; each unpaired (patient, questionnaire) is reported at its first
    response. Not applicable when the feed has no completed responses.
    """

    def __init__(self, requirement: Requirement) -> None:
        super().__init__(requirement)
        if self.applies_to is None:
            self.applies_to = frozenset({_QR})

    def start(self, context: RunContext) -> _Pairs:
        return _Pairs()

    def visit(self, state: _Pairs, record: Record, emit: Emit) -> None:
        resource = record.resource
        assert resource is not None
        if resource.get("status") != "completed":
            return
        questionnaire = resource.get("questionnaire")
        authored = resource.get("authored")
        patient = patient_key(resource.get("subject"))
        if type(questionnaire) is not str or type(authored) is not str or patient is None:
            return  # OUT-01 reports what is missing
        key = (patient, questionnaire.partition("|")[0])
        day = authored[:10]
        entry = state.series.get(key)
        if entry is None:
            state.series[key] = [day, False, place_of(record.location), record.resource_id]
        elif not entry[1] and entry[0] != day:
            entry[1] = True

    def merge(self, state: _Pairs, other: _Pairs) -> _Pairs:
        for key, theirs in other.series.items():
            mine = state.series.get(key)
            if mine is None:
                state.series[key] = theirs
            elif not mine[1] and (theirs[1] or theirs[0] != mine[0]):
                mine[1] = True
        return state

    def finish(self, state: _Pairs, context: FinishContext, emit: Emit) -> Measure:
        patients: dict[str, bool] = {}
        unpaired: list[tuple[Place, str | None]] = []
        for (patient, _), (_, paired, place, rid) in state.series.items():
            patients[patient] = patients.get(patient, False) or paired
            if not paired:
                unpaired.append((place, rid))
        if not patients:
            return Measure(
                status="not-applicable", note="no completed QuestionnaireResponses in the feed"
            )
        for place, rid in unpaired:
            emit(
                Problem(
                    "outcome-unpaired",
                    "this outcome measure has no second completed response (baseline and "
                    "follow-up) for the same patient and questionnaire on another date",
                ),
                located(place),
                _QR,
                rid,
            )
        paired = sum(1 for p in patients.values() if p)
        total = len(patients)
        note = (
            f"{paired} of {total} patients with a completed PROM/PREM have a paired baseline "
            f"and follow-up ({100.0 * paired / total:.1f} %)"
        )
        return Measure(paired, total, note=note)


def prom_response(req: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
    check = PromResponse(req)
    if check.applies_to is None:
        check.applies_to = frozenset({_QR})
    return check


def prom_pairs(req: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
    return PromPairs(req)


CHECK_TYPES: dict[str, Any] = {
    "prom-response": prom_response,
    "prom-pairs": prom_pairs,
}

"""Reference requirements (MDSS-REF-*): references resolve, clinical records name their patient.

Also home of :func:`nodes`, the one walk over a resource's JSON objects that the reference,
organisation, terminology and timeliness checks share (cached for the current record).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from conformance.checks.base import (
    Check,
    CompileEnv,
    Emit,
    FinishContext,
    Measure,
    RecordCheck,
    RunContext,
    param,
)
from conformance.findings import Location, Problem, Severity
from conformance.nhs.systems import NHS_NUMBER_SYSTEM, SNOMED_SYSTEM
from conformance.readers.base import Record
from conformance.standards.model import Requirement

Node = tuple[str, dict[str, Any]]


class Scan(NamedTuple):
    """The JSON objects of one resource that checks look for, each with its expression."""

    identifiers: list[Node]
    """Objects with an ``identifier`` key (the resource, logical references...)."""
    references: list[Node]
    """Objects with a ``reference`` key, or an ``identifier`` object (logical references)."""
    snomed: list[Node]
    """Objects whose ``system`` is SNOMED CT (Codings, wherever they are)."""
    periods: list[Node]
    """Objects with a ``start`` or ``end`` key (Periods)."""


_last: tuple[Any, Scan | None] = (None, None)


def scan(resource: dict[str, Any]) -> Scan:
    """One walk over every JSON object in ``resource``, in document order, sorted by interest.

    Expressions are FHIRPath-style (``Encounter.location[0].location``); narrative
    (``text`` objects) is skipped. The scan of the most recent resource is cached, so the
    several checks visiting one record walk it once; the cache holds the resource itself,
    so identity cannot be confused with a later object at the same address.
    """
    global _last
    cached = _last
    if cached[0] is resource and cached[1] is not None:
        return cached[1]
    identifiers: list[Node] = []
    references: list[Node] = []
    snomed: list[Node] = []
    periods: list[Node] = []
    rtype = resource.get("resourceType")
    root = rtype if type(rtype) is str else "Resource"
    stack: list[Node] = [(root, resource)]
    pop, push = stack.pop, stack.append
    while stack:
        path, node = pop()
        if "identifier" in node:
            identifiers.append((path, node))
            if "reference" in node or (type(node["identifier"]) is dict and path != root):
                references.append((path, node))
        elif "reference" in node:
            references.append((path, node))
        if "system" in node and node["system"] == SNOMED_SYSTEM:
            snomed.append((path, node))
        if "start" in node or "end" in node:
            periods.append((path, node))
        mark = len(stack)
        for key, value in node.items():
            kind = type(value)
            if kind is dict:
                if key != "text":
                    push((f"{path}.{key}", value))
            elif kind is list and value and type(value[0]) is dict:
                for index, item in enumerate(value):
                    if type(item) is dict:
                        push((f"{path}.{key}[{index}]", item))
        if len(stack) - mark > 1:
            stack[mark:] = stack[mark:][::-1]  # children popped in document order
    result = Scan(identifiers, references, snomed, periods)
    _last = (resource, result)
    return result


def reference_target(ref: str) -> str | None:
    """``Type/id`` for a relative reference (``_history`` dropped), else None."""
    parts = ref.split("/")
    count = len(parts)
    if count == 2 or (count == 4 and parts[2] == "_history"):
        rtype, rid = parts[0], parts[1]
        if rtype[:1].isupper() and rtype.isalpha() and rid and "?" not in rid:
            return rtype + "/" + rid if count == 4 else ref
    return None


def absolute_target(ref: str) -> str | None:
    """``Type/id`` at the end of an absolute RESTful URL, else None."""
    parts = ref.rsplit("/", 4)
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    if len(parts) >= 2:
        return reference_target(parts[-2] + "/" + parts[-1])
    return None


# --------------------------------------------------------------------------- REF-01

_HAS_FULL_URL: Final = hasattr(Record, "full_url")
"""Whether the readers expose Bundle ``fullUrl`` on records (``urn:uuid:`` resolution)."""

Referrer = tuple[Location, str, str | None, str | None]
"""(the record's location, the reference's expression, type, id): the location is narrowed
to the expression only when the reference is reported (most resolve later)."""


EXAMPLE_LIMIT = 10_000
"""Unresolved references remembered with their place (the counts are always exact)."""


def target_key(target: str) -> bytes:
    """A compact, stable 8-byte key for a reference target.

    A million ``Type/uuid`` strings take about 150 MB in a set; their 8-byte keys about a
    third of that, and the keys are the same in every process (unlike ``hash()``), so
    parallel workers' states merge. Two targets sharing a key (odds about 1 in 10^7 for a
    million targets) would count a dangling reference as resolved.
    """
    return hashlib.blake2b(target.encode(), digest_size=8).digest()


@dataclass(slots=True)
class _Resolve:
    seen: set[bytes] = field(default_factory=set)
    """Keys of the ``Type/id`` (and fullUrls) of every resource seen in the feed."""
    pending: dict[bytes, int] = field(default_factory=dict)
    """How many references wait for each target not seen yet."""
    examples: dict[bytes, list[tuple[Location, str, str | None, str | None]]] = field(
        default_factory=dict
    )
    """Waiting references with their place, at most :data:`EXAMPLE_LIMIT` at a time (a
    target's examples are dropped when it turns up, freeing room for later ones)."""
    example_count: int = 0
    checked: int = 0
    resolved: int = 0


class ReferencesResolve(Check[_Resolve]):
    """MDSS-REF-01: relative, contained and Bundle references resolve inside the feed.

    Measured per reference. A reference whose target is not yet seen waits in ``pending``
    (grouped by target, released as soon as the target appears), so memory holds only the
    ids seen and the references still unresolved. Absolute URLs, conditional and
    identifier-only references cannot be resolved offline: they are reported as
    information and not counted.
    """

    def start(self, context: RunContext) -> _Resolve:
        return _Resolve()

    def visit(self, state: _Resolve, record: Record, emit: Emit) -> None:
        resource = record.resource
        assert resource is not None
        rtype = record.resource_type
        rid = record.resource_id
        seen: set[bytes] = state.seen
        pending: dict[bytes, int] = state.pending
        if rid is not None:
            key = target_key(f"{rtype}/{rid}")
            seen.add(key)
            if key in pending:
                _arrived(state, key)
        if _HAS_FULL_URL:
            full = getattr(record, "full_url", None)
            if type(full) is str:
                key = target_key(full)
                seen.add(key)
                if key in pending:
                    _arrived(state, key)
        contained: set[str] | None = None
        for path, node in scan(resource).references:
            ref = node.get("reference")
            if type(ref) is not str:
                if type(node.get("identifier")) is dict:
                    emit(
                        Problem(
                            "reference-identifier-only",
                            "a logical (identifier-only) reference cannot be resolved in the feed",
                            severity=Severity.INFORMATION,
                        ),
                        record.location.at(path),
                        rtype,
                        rid,
                    )
                continue
            where = path + ".reference"
            if ref.startswith("#"):
                state.checked += 1
                if contained is None:
                    contained = _contained_ids(resource)
                if ref == "#" or ref[1:] in contained:
                    state.resolved += 1
                else:
                    emit(
                        Problem(
                            "reference-unresolved",
                            "the contained reference {value} names no contained resource",
                            where,
                            ref,
                            "code",
                        ),
                        record.location.at(where),
                        rtype,
                        rid,
                    )
                continue
            target = reference_target(ref)
            if target is None and ref.startswith("urn:") and _HAS_FULL_URL:
                target = ref
            if target is None:
                emit(
                    Problem(
                        "reference-not-checked",
                        "an absolute, conditional or Bundle-internal reference is not resolved "
                        "offline",
                        where,
                        severity=Severity.INFORMATION,
                    ),
                    record.location.at(where),
                    rtype,
                    rid,
                )
                continue
            state.checked += 1
            key = target_key(target)
            if key in seen:
                state.resolved += 1
            else:
                pending[key] = pending.get(key, 0) + 1
                if state.example_count < EXAMPLE_LIMIT:
                    state.examples.setdefault(key, []).append((record.location, where, rtype, rid))
                    state.example_count += 1

    def merge(self, state: _Resolve, other: _Resolve) -> _Resolve:
        state.checked += other.checked
        state.resolved += other.resolved
        seen = state.seen
        # What the later share still waited for, but an earlier one had seen, resolves now
        # (as it would have in a serial run); the rest keeps waiting.
        for key, count in other.pending.items():
            if key in seen:
                state.resolved += count
                continue
            state.pending[key] = state.pending.get(key, 0) + count
            for example in other.examples.get(key, ()):
                if state.example_count >= EXAMPLE_LIMIT:
                    break
                state.examples.setdefault(key, []).append(example)
                state.example_count += 1
        seen |= other.seen
        for key in [k for k in state.pending if k in other.seen]:
            _arrived(state, key)
        return state

    def finish(self, state: _Resolve, context: FinishContext, emit: Emit) -> Measure:
        pending = state.pending
        unresolved = sum(pending.values())
        examples = [
            (location.at(where), rtype, rid)
            for waiting in state.examples.values()
            for location, where, rtype, rid in waiting
        ]
        # In file order, so the examples kept are the same however the feed was split.
        examples.sort(key=_place)
        problem = Problem(
            "reference-unresolved", "the reference names a resource that is not in the feed"
        )
        for location, rtype, rid in examples:
            emit(problem, location, rtype, rid)
        # Beyond the remembered examples, count each remaining one (no place kept).
        for _ in range(unresolved - len(examples)):
            emit(problem, Location())
        return Measure(state.resolved, state.checked)


def _arrived(state: _Resolve, key: bytes) -> None:
    """A waited-for target turned up: its references resolve, its examples go."""
    state.resolved += state.pending.pop(key)
    dropped = state.examples.pop(key, None)
    if dropped is not None:
        state.example_count -= len(dropped)


def _place(referrer: tuple[Location, str | None, str | None]) -> tuple[str, int, int, str]:
    location = referrer[0]
    return (
        location.file or "",
        location.line or 0,
        location.entry or 0,
        location.expression or "",
    )


def _contained_ids(resource: dict[str, Any]) -> set[str]:
    contained = resource.get("contained")
    if type(contained) is not list:
        return set()
    return {c["id"] for c in contained if type(c) is dict and type(c.get("id")) is str}


# --------------------------------------------------------------------------- REF-02


def is_patient_reference(ref: Any) -> bool | None:
    """True for a reference to a Patient, False for one to something else, None if absent."""
    if type(ref) is not dict:
        return None
    declared = ref.get("type")
    text = ref.get("reference")
    if type(text) is str and text:
        if text.startswith("#"):
            return declared in (None, "Patient")
        target = reference_target(text)
        if target is None and "://" in text:
            target = absolute_target(text)
        if target is not None:
            return target.startswith("Patient/")
        return declared in (None, "Patient")  # urn:uuid: the type is not in the text
    ident = ref.get("identifier")
    if type(ident) is dict and ident.get("value"):
        return declared == "Patient" or ident.get("system") == NHS_NUMBER_SYSTEM
    return None


class SubjectPatient(RecordCheck):
    """MDSS-REF-02: clinical resources reference their subject Patient."""

    def __init__(self, requirement: Requirement, elements: Mapping[str, str]) -> None:
        super().__init__(requirement)
        self.elements = dict(elements)

    def problems(self, resource: dict[str, Any]) -> Iterable[Problem]:
        rtype = resource["resourceType"]
        element = self.elements.get(rtype, "subject")
        verdict = is_patient_reference(resource.get(element))
        if verdict is None:
            yield Problem(
                "subject-missing",
                f"{rtype}.{element} does not reference the patient",
                f"{rtype}.{element}",
            )
        elif not verdict:
            yield Problem(
                "subject-not-patient",
                f"{rtype}.{element} references something other than a Patient",
                f"{rtype}.{element}",
            )


# --------------------------------------------------------------------------- REF-03


class EncounterLink(RecordCheck):
    """MDSS-REF-03: observations, conditions and procedures link to their Encounter."""

    def __init__(self, requirement: Requirement, element: str) -> None:
        super().__init__(requirement)
        self.element = element

    def problems(self, resource: dict[str, Any]) -> Iterable[Problem]:
        ref = resource.get(self.element)
        if type(ref) is dict and (ref.get("reference") or ref.get("identifier")):
            return
        where = f"{resource['resourceType']}.{self.element}"
        yield Problem("encounter-link-missing", f"{where} does not name an Encounter", where)


# ------------------------------------------------------------------------- factories

CLINICAL_TYPES: Final = frozenset(
    {
        "AllergyIntolerance",
        "CarePlan",
        "Condition",
        "DiagnosticReport",
        "Encounter",
        "Immunization",
        "MedicationAdministration",
        "MedicationRequest",
        "MedicationStatement",
        "Observation",
        "Procedure",
        "QuestionnaireResponse",
        "ServiceRequest",
    }
)
_SUBJECT_ELEMENTS: Final = {
    "AllergyIntolerance": "patient",
    "Immunization": "patient",
}


def references_resolve(req: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
    return ReferencesResolve(req)


def subject_patient(req: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
    elements = dict(_SUBJECT_ELEMENTS)
    elements.update(param(params, "elements", dict, {}))
    check = SubjectPatient(req, elements)
    if check.applies_to is None:
        check.applies_to = CLINICAL_TYPES
    return check


def encounter_link(req: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
    check = EncounterLink(req, param(params, "element", str, "encounter"))
    if check.applies_to is None:
        check.applies_to = frozenset({"Observation", "Condition", "Procedure"})
    return check


CHECK_TYPES: dict[str, Any] = {
    "references-resolve": references_resolve,
    "subject-patient": subject_patient,
    "encounter-link": encounter_link,
}

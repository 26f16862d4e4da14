"""Reference requirements (MDSS-REF-*): references resolve, clinical records name their patient.

Also home of :func:`scan`, the one walk over a resource's JSON objects that the reference,
organisation, terminology and timeliness checks share (cached for the current record).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple, TypeAlias

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
    param,
    place_of,
)
from conformance.findings import Location, Problem, Severity
from conformance.nhs.systems import NHS_NUMBER_SYSTEM, SNOMED_SYSTEM
from conformance.readers.base import Record
from conformance.standards.model import Requirement

Node: TypeAlias = tuple[Any, str, int, dict[str, Any]]
"""A JSON object of a resource as :func:`scan` found it: (the node holding it, a ``Node``
or None; its key; its index in that key's list or -1; the object). Its FHIRPath-style
expression is only built when a finding needs it (:func:`expression`): most objects never
need one. (The holder is typed Any: mypyc cannot compile a recursive type alias.)"""


class Scan(NamedTuple):
    """The JSON objects of one resource that checks look for."""

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

    Narrative (``text`` objects) is skipped. The scan of the most recent resource is
    cached, so the several checks visiting one record walk it once; the cache holds the
    resource itself, so identity cannot be confused with a later object at the same address.
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
    root: Node = (None, rtype if type(rtype) is str else "Resource", -1, resource)
    stack: list[Node] = [root]
    pop, push = stack.pop, stack.append
    while stack:
        entry = pop()
        node = entry[3]
        if "identifier" in node:
            identifiers.append(entry)
            if "reference" in node or (type(node["identifier"]) is dict and entry is not root):
                references.append(entry)
        elif "reference" in node:
            references.append(entry)
        if "system" in node and node["system"] == SNOMED_SYSTEM:
            snomed.append(entry)
        if "start" in node or "end" in node:
            periods.append(entry)
        mark = len(stack)
        for key, value in node.items():
            kind = type(value)
            if kind is dict:
                if key != "text":
                    push((entry, key, -1, value))
            elif kind is list and value and type(value[0]) is dict:
                for index, item in enumerate(value):
                    if type(item) is dict:
                        push((entry, key, index, item))
        if len(stack) - mark > 1:
            stack[mark:] = stack[mark:][::-1]  # children popped in document order
    result = Scan(identifiers, references, snomed, periods)
    _last = (resource, result)
    return result


def expression(node: Node) -> str:
    """The FHIRPath-style expression of a scanned object (``Encounter.location[0].location``)."""
    parts: list[str] = []
    at: Node | None = node
    while at is not None:
        parent, key, index, _ = at
        parts.append(key if index < 0 else f"{key}[{index}]")
        at = parent
    parts.reverse()
    return ".".join(parts)


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

Waiting = tuple[Place, str, str | None, str | None]
"""A reference waiting for its target: (its record's place, its expression, the record's
type and id). Plain data: states travel between processes."""


EXAMPLE_LIMIT = 10_000
"""Unresolved references remembered with their place (the counts are always exact)."""


_BLAKE2B: Final = hashlib.blake2b
_KEYS: dict[str, bytes] = {}
"""Recent targets' keys: references to one patient or encounter repeat (a pure memo)."""
_KEYS_LIMIT: Final = 4096


def target_key(target: str) -> bytes:
    """A compact, stable 8-byte key for a reference target.

    A million ``Type/uuid`` strings take about 150 MB in a set; their 8-byte keys about a
    third of that, and the keys are the same in every process (unlike ``hash()``), so
    parallel workers' states merge. Two targets sharing a key (odds about 1 in 10^7 for a
    million targets) would count a dangling reference as resolved.
    """
    key = _KEYS.get(target)
    if key is None:
        key = _BLAKE2B(target.encode(), digest_size=8).digest()
        if len(_KEYS) >= _KEYS_LIMIT:
            _KEYS.clear()
        _KEYS[target] = key
    return key


@dataclass(slots=True)
class _Resolve:
    seen: set[bytes] = field(default_factory=set)
    """Keys of the ``Type/id`` (and fullUrls) of every resource seen in the feed."""
    pending: dict[bytes, int] = field(default_factory=dict)
    """How many references wait for each target not seen yet."""
    examples: dict[bytes, list[Waiting]] = field(default_factory=dict)
    """Waiting references with their place, at most :data:`EXAMPLE_LIMIT` at a time (a
    target's examples are dropped when it turns up, freeing room for later ones)."""
    example_count: int = 0
    checked: int = 0
    resolved: int = 0


_IDENTIFIER_ONLY: Final = Problem(
    "reference-identifier-only",
    "a logical (identifier-only) reference cannot be resolved in the feed",
    severity=Severity.INFORMATION,
)


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
        seen = state.seen
        pending = state.pending
        if rid is not None:
            key = target_key(f"{rtype}/{rid}")
            seen.add(key)
            if key in pending:
                _arrived(state, key)
        if _HAS_FULL_URL:
            full = record.full_url
            if type(full) is str:
                key = target_key(full)
                seen.add(key)
                if key in pending:
                    _arrived(state, key)
        contained: set[str] | None = None
        place: Place | None = None
        for node in scan(resource).references:
            ref = node[3].get("reference")
            if type(ref) is not str:
                if type(node[3].get("identifier")) is dict:
                    emit(_IDENTIFIER_ONLY, record.location.at(expression(node)), rtype, rid)
                continue
            if ref.startswith("#"):
                state.checked += 1
                if contained is None:
                    contained = _contained_ids(resource)
                if ref == "#" or ref[1:] in contained:
                    state.resolved += 1
                else:
                    where = expression(node) + ".reference"
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
                where = expression(node) + ".reference"
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
                continue
            pending[key] = pending.get(key, 0) + 1
            if state.example_count < EXAMPLE_LIMIT:
                if place is None:
                    place = place_of(record.location)
                # Interned: the same expression recurs in many records, and pickles once.
                where = sys.intern(expression(node) + ".reference")
                state.examples.setdefault(key, []).append((place, where, rtype, rid))
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
        # Targets the later share saw: the smaller side is walked (a set intersection).
        for key in state.pending.keys() & other.seen:
            _arrived(state, key)
        return state

    def finish(self, state: _Resolve, context: FinishContext, emit: Emit) -> Measure:
        pending = state.pending
        unresolved = sum(pending.values())
        examples = [example for waiting in state.examples.values() for example in waiting]
        # In file order, so the examples kept are the same however the feed was split.
        examples.sort(key=_order)
        problem = Problem(
            "reference-unresolved", "the reference names a resource that is not in the feed"
        )
        for place, where, rtype, rid in examples:
            emit(problem, located(place, where), rtype, rid)
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


def _order(waiting: Waiting) -> tuple[str, int, int, str]:
    place = waiting[0]
    return (place[0] or "", place[1] or 0, place[3] or 0, waiting[1])


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

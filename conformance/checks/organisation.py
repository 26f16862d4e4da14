"""Organisation and site requirements (MDSS-ORG-*): ODS systems, ODS codes, providers, sites."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
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
    located,
    param,
    place_of,
)
from conformance.checks.references import (
    Node,
    absolute_target,
    expression,
    reference_target,
    scan,
)
from conformance.findings import Location, Problem
from conformance.nhs.ods import ODS_FRAMES, ods_code_problem
from conformance.nhs.systems import (
    ODS_MISSPELT_SYSTEMS,
    ODS_ORGANIZATION_SYSTEM,
    ODS_SITE_SYSTEM,
    ODS_SYSTEMS,
)
from conformance.readers.base import Record
from conformance.standards.model import Requirement


def _identifiers_at(node: Node) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(index or -1, identifier)`` for the identifier(s) held directly by ``node``."""
    ids = node[3].get("identifier")
    if type(ids) is dict:
        yield -1, ids
    elif type(ids) is list:
        for index, ident in enumerate(ids):
            if type(ident) is dict:
                yield index, ident


def _identifier_expression(node: Node, index: int) -> str:
    """The expression of the identifier at ``index`` (-1: the only one) of ``node``."""
    held = expression(node)
    return f"{held}.identifier" if index < 0 else f"{held}.identifier[{index}]"


# --------------------------------------------------------------------------- ORG-01


def is_ods_near_miss(system: str) -> bool:
    """True for a system that is evidently meant as an ODS system but is not spelt right."""
    if system in ODS_SYSTEMS:
        return False
    if system in ODS_MISSPELT_SYSTEMS:
        return True
    lower = system.lower()
    return "fhir.nhs.uk" in lower and "/ods" in lower


class OdsSystemSpelling(RecordCheck):
    """MDSS-ORG-01: ODS identifier systems are spelt exactly as UK Core defines them.

    Every identifier in the resource is looked at: its own, and those of logical
    references (``Encounter.serviceProvider.identifier``, ``generalPractitioner[].identifier``).
    """

    _MEMO_LIMIT: Final = 4096

    def __init__(self, requirement: Requirement) -> None:
        super().__init__(requirement)
        # A pure memo (system -> wrong?): systems repeat across records; bounded.
        self._memo: dict[str, bool] = {s: False for s in ODS_SYSTEMS}

    def problems(self, resource: dict[str, Any]) -> Iterable[Problem]:
        memo = self._memo
        for node in scan(resource).identifiers:
            for index, ident in _identifiers_at(node):
                system = ident.get("system")
                if type(system) is not str:
                    continue
                wrong = memo.get(system)
                if wrong is None:
                    wrong = is_ods_near_miss(system)
                    if len(memo) < self._MEMO_LIMIT:
                        memo[system] = wrong
                if wrong:
                    yield Problem(
                        "ods-system-misspelt",
                        "the identifier system {value} is not an ODS system URI "
                        "(https://fhir.nhs.uk/Id/ods-organization-code or ods-site-code)",
                        f"{_identifier_expression(node, index)}.system",
                        system,
                        "system",
                    )


# --------------------------------------------------------------------------- ORG-02

DEFAULT_FRAMES: Final = {
    "generalPractitioner": "gp-practice",
    "serviceProvider": "trust",
    "managingOrganization": "organisation",
}


class OdsCodeValid(RecordCheck):
    """MDSS-ORG-02: ODS codes have the shape of their frame.

    The frame comes from the context: the ods-site-code system means a site (5
    characters); under ``generalPractitioner`` a GP practice (6); under ``serviceProvider``
    a trust (3); anything else under the organisation system, any organisation (3-6).
    """

    def __init__(self, requirement: Requirement, frames: Mapping[str, str]) -> None:
        super().__init__(requirement)
        self.frames = dict(frames)

    def _frame(self, node: Node, system: str) -> str:
        if system == ODS_SITE_SYSTEM:
            return "site"
        # The element holding the identifier (e.g. generalPractitioner) names the frame.
        return self.frames.get(node[1], "organisation")

    def problems(self, resource: dict[str, Any]) -> Iterable[Problem]:
        for node in scan(resource).identifiers:
            for index, ident in _identifiers_at(node):
                system = ident.get("system")
                if system != ODS_ORGANIZATION_SYSTEM and system != ODS_SITE_SYSTEM:
                    continue
                value = ident.get("value")
                if type(value) is not str:
                    continue
                frame = self._frame(node, system)
                problem = ods_code_problem(value, frame)
                if problem is not None:
                    yield Problem(
                        f"ods-code-{problem}",
                        f"the ODS code {{value}} is not a valid {frame} code ({problem})",
                        f"{_identifier_expression(node, index)}.value",
                        value,
                        "ods-code",
                    )


# ------------------------------------------------------------------- ORG-03/04/05


@dataclass(slots=True)
class _Links:
    known: set[str] = field(default_factory=set)
    """``Type/id`` of target resources in the feed that carry the ODS identifier."""
    pending: list[tuple[tuple[str, ...], Place, str | None]] = field(default_factory=list)
    """Subjects naming their target by reference only: (targets, record's place, its id)."""
    checked: int = 0
    passed: int = 0


class OdsLink(Check[_Links]):
    """A subject names an organisation or site by ODS code (MDSS-ORG-03, -04, -05).

    The subject passes when one of its ``element`` references carries an identifier of
    ``system``, or references a ``target`` resource in the feed that has one (resolved at
    the end of the feed: only the ids of such targets are kept).
    """

    def __init__(
        self,
        requirement: Requirement,
        subject: str,
        element: str,
        nested: str | None,
        target: str,
        system: str,
        codes: tuple[str, str],
        what: str,
    ) -> None:
        super().__init__(requirement)
        self.subject = subject
        self.element = element
        self.nested = nested
        self.target = target
        self.system = system
        self.codes = codes
        self.what = what
        self.where = f"{subject}.{element}"
        if self.applies_to is None:
            self.applies_to = frozenset({subject, target})
        else:
            self.applies_to = self.applies_to | {target}

    def start(self, context: RunContext) -> _Links:
        return _Links()

    def _refs(self, resource: dict[str, Any]) -> list[dict[str, Any]]:
        value = resource.get(self.element)
        items = value if type(value) is list else [value]
        nested = self.nested
        out: list[dict[str, Any]] = []
        for item in items:
            if type(item) is not dict:
                continue
            if nested is not None:
                item = item.get(nested)
                if type(item) is not dict:
                    continue
            out.append(item)
        return out

    def visit(self, state: _Links, record: Record, emit: Emit) -> None:
        resource = record.resource
        assert resource is not None
        rtype = record.resource_type
        if rtype == self.target:
            if record.resource_id is not None and self._has_code(resource.get("identifier")):
                state.known.add(f"{rtype}/{record.resource_id}")
            if rtype != self.subject:
                return
        state.checked += 1
        refs = self._refs(resource)
        if not refs:
            emit(
                Problem(
                    self.codes[0], f"{self.where} is missing: no {self.what} is named", self.where
                ),
                record.location.at(self.where),
                rtype,
                record.resource_id,
            )
            return
        targets: list[str] = []
        for ref in refs:
            if self._has_code(ref.get("identifier")):
                state.passed += 1
                return
            text = ref.get("reference")
            if type(text) is str:
                found = reference_target(text) or absolute_target(text)
                if found is not None and found.startswith(self.target + "/"):
                    targets.append(found)
        if targets:
            if any(t in state.known for t in targets):
                state.passed += 1
            else:
                state.pending.append(
                    (tuple(targets), place_of(record.location), record.resource_id)
                )
            return
        self._fail(emit, record.location.at(self.where), record.resource_id)

    def _has_code(self, ids: Any) -> bool:
        if type(ids) is dict:
            return ids.get("system") == self.system and bool(ids.get("value"))
        if type(ids) is list:
            return any(
                type(i) is dict and i.get("system") == self.system and bool(i.get("value"))
                for i in ids
            )
        return False

    def _fail(self, emit: Emit, location: Location, rid: str | None) -> None:
        emit(
            Problem(
                self.codes[1],
                f"{self.where} names no {self.what} by ODS code (no {self.system} identifier, "
                f"nor a reference to a {self.target} in the feed that has one)",
                self.where,
            ),
            location,
            self.subject,
            rid,
        )

    def merge(self, state: _Links, other: _Links) -> _Links:
        state.known |= other.known
        state.pending.extend(other.pending)
        state.checked += other.checked
        state.passed += other.passed
        return state

    def finish(self, state: _Links, context: FinishContext, emit: Emit) -> Measure:
        known = state.known
        passed = state.passed
        for targets, place, rid in state.pending:
            if any(t in known for t in targets):
                passed += 1
            else:
                self._fail(emit, located(place, self.where), rid)
        return Measure(passed, state.checked)


# ------------------------------------------------------------------------- factories


def ods_system(req: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
    return OdsSystemSpelling(req)


def ods_code(req: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
    frames = dict(DEFAULT_FRAMES)
    frames.update(param(params, "frames", dict, {}))
    for element, frame in frames.items():
        if frame not in ODS_FRAMES:
            raise CheckParamError(
                f"frames.{element}: unknown ODS frame '{frame}' (known: {sorted(ODS_FRAMES)})"
            )
    check = OdsCodeValid(req, frames)
    if check.applies_to is None:
        check.applies_to = frozenset({"Patient", "Encounter", "Organization", "Location"})
    return check


def encounter_provider(req: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
    return OdsLink(
        req,
        "Encounter",
        "serviceProvider",
        None,
        "Organization",
        ODS_ORGANIZATION_SYSTEM,
        ("service-provider-missing", "service-provider-not-ods"),
        "provider organisation",
    )


def encounter_site(req: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
    return OdsLink(
        req,
        "Encounter",
        "location",
        "location",
        "Location",
        ODS_SITE_SYSTEM,
        ("encounter-location-missing", "encounter-site-not-ods"),
        "site",
    )


def gp_practice(req: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
    return OdsLink(
        req,
        "Patient",
        "generalPractitioner",
        None,
        "Organization",
        ODS_ORGANIZATION_SYSTEM,
        ("gp-missing", "gp-not-ods"),
        "GP practice",
    )


CHECK_TYPES: dict[str, Any] = {
    "ods-system": ods_system,
    "ods-code-valid": ods_code,
    "encounter-provider": encounter_provider,
    "encounter-site": encounter_site,
    "gp-practice": gp_practice,
}

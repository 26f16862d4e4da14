"""The ``ods-reference`` check type, registered through ``conformance_check_types``."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from conformance.plugin import (
    Check,
    CheckParamError,
    CompileEnv,
    Emit,
    FindingCode,
    Problem,
    Record,
    Requirement,
    Tally,
    hookimpl,
    param,
)
from conformance_ods.reference import (
    ENV_VAR,
    OdsReference,
    ReferenceError_,
    load_reference,
    paths_from_env,
)

ODS_SYSTEMS: Final = frozenset(
    {
        "https://fhir.nhs.uk/Id/ods-organization-code",
        "https://fhir.nhs.uk/Id/ods-site-code",
    }
)
EVENT_DATES: Final = {
    "Encounter": (("period", "start"),),
    "Observation": (("effectiveDateTime",), ("effectivePeriod", "start"), ("issued",)),
    "Condition": (("recordedDate",), ("onsetDateTime",)),
    "MedicationRequest": (("authoredOn",),),
    "Procedure": (("performedDateTime",), ("performedPeriod", "start")),
    "QuestionnaireResponse": (("authored",),),
}
_MESSAGES: Final = {
    "unknown": "the ODS code {value} is not in the ODS reference data",
    "closed": "the organisation with ODS code {value} was closed on the date of the event",
    "not-yet-open": "the organisation with ODS code {value} was not yet open on the date "
    "of the event",
    "inactive": "the GP practice with ODS code {value} is dormant or only proposed",
}
FINDING_CODES: Final = (
    FindingCode(
        "ods-code-unknown",
        "ODS code not in the reference data",
        "An ODS code is not in the ODS reference extracts the check was given (check type "
        "`ods-reference`).",
        area="conformance-ods",
    ),
    FindingCode(
        "ods-code-closed",
        "Organisation closed",
        "The organisation or site with this ODS code was closed on the date of the event "
        "(check type `ods-reference`).",
        area="conformance-ods",
    ),
    FindingCode(
        "ods-code-not-yet-open",
        "Organisation not yet open",
        "The organisation or site with this ODS code was not yet open on the date of the "
        "event (check type `ods-reference`).",
        area="conformance-ods",
    ),
    FindingCode(
        "ods-code-inactive",
        "GP practice not active",
        "The GP practice with this ODS code is dormant or only proposed (check type "
        "`ods-reference`).",
        area="conformance-ods",
    ),
)


def _ods_identifiers(resource: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``(expression, code)`` for every identifier with an ODS system, anywhere."""
    stack: list[tuple[str, Any]] = [(str(resource.get("resourceType", "Resource")), resource)]
    while stack:
        path, node = stack.pop()
        if type(node) is dict:
            ident = node.get("identifier")
            items = [ident] if type(ident) is dict else ident if type(ident) is list else []
            for index, item in enumerate(items):
                if type(item) is dict and item.get("system") in ODS_SYSTEMS:
                    value = item.get("value")
                    if type(value) is str and value:
                        where = f"{path}.identifier" + (f"[{index}]" if type(ident) is list else "")
                        yield f"{where}.value", value
            for key, value in node.items():
                if key != "identifier" and type(value) in (dict, list):
                    stack.append((f"{path}.{key}", value))
        elif type(node) is list:
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(node))


def _event_date(resource: dict[str, Any], fallback: datetime.date | None) -> datetime.date | None:
    for keys in EVENT_DATES.get(str(resource.get("resourceType")), ()):
        value: Any = resource
        for key in keys:
            value = value.get(key) if type(value) is dict else None
        if type(value) is str and len(value) >= 10:
            try:
                return datetime.date.fromisoformat(value[:10])
            except ValueError:
                continue
    meta = resource.get("meta")
    updated = meta.get("lastUpdated") if type(meta) is dict else None
    if type(updated) is str and len(updated) >= 10:
        try:
            return datetime.date.fromisoformat(updated[:10])
        except ValueError:
            pass
    return fallback


@dataclass(slots=True)
class _State(Tally):
    fallback: datetime.date | None = None
    """The end of the feed's period: the event date of a resource that has none."""


class OdsReferenceCheck(Check):
    """Every ODS code is known to ODS and its organisation open on the event date."""

    _MEMO_LIMIT: Final = 65536

    def __init__(self, requirement: Requirement, reference: OdsReference) -> None:
        super().__init__(requirement)
        self.reference = reference
        # A pure memo ((code, date) -> problem): codes and dates repeat; bounded.
        self._memo: dict[tuple[str, datetime.date | None], str | None] = {}

    def start(self, context: Any) -> Any:
        end = getattr(context.feed, "period_end", None)
        try:
            return _State(fallback=datetime.date.fromisoformat(end[:10]) if end else None)
        except ValueError:
            return _State()

    def visit(self, state: Any, record: Record, emit: Emit) -> None:
        resource = record.resource
        if resource is None:
            return
        codes = list(_ods_identifiers(resource))
        if not codes:
            return
        state.checked += 1
        on = _event_date(resource, state.fallback)
        ok = True
        memo = self._memo
        for where, code in codes:
            key = (code, on)
            if key in memo:
                problem = memo[key]
            else:
                problem = self.reference.problem(code, on)
                if len(memo) < self._MEMO_LIMIT:
                    memo[key] = problem
            if problem is None:
                continue
            ok = False
            emit(
                Problem(f"ods-code-{problem}", _MESSAGES[problem], where, code, "ods-code"),
                record.location.at(where),
                record.resource_type,
                record.resource_id,
            )
        if ok:
            state.passed += 1


def ods_reference(req: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check:
    raw = param(params, "reference", (str, list), None)
    if raw is None:
        paths = paths_from_env()
        if not paths:
            raise CheckParamError(
                f"no ODS reference data: set ${ENV_VAR} or the check's 'reference' parameter"
            )
    else:
        names = [raw] if isinstance(raw, str) else raw
        if not all(isinstance(n, str) for n in names):
            raise CheckParamError("parameter 'reference' must be a path or a list of paths")
        paths = [p if p.is_absolute() else env.standard.path / p for p in map(Path, names)]
    key = "ods-reference:" + "|".join(str(p) for p in paths)
    try:
        reference: OdsReference = env.service(key, lambda: load_reference(paths))
    except ReferenceError_ as exc:
        raise CheckParamError(str(exc)) from None
    return OdsReferenceCheck(req, reference)


@hookimpl
def conformance_check_types() -> Mapping[str, Any]:
    return {"ods-reference": ods_reference}


@hookimpl
def conformance_finding_codes() -> Sequence[FindingCode]:
    return FINDING_CODES

"""Identity requirements (MDSS-ID-*): NHS Numbers and the demographics that anchor a patient."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mypy_extensions import mypyc_attr

from conformance.checks.base import (
    Check,
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
from conformance.checks.fhirutil import NHS_NUMBER_SYSTEM, codings, extensions, identifiers
from conformance.findings import Problem, Severity
from conformance.nhs import ukcore
from conformance.nhs.nhs_number import (
    is_sentinel_nhs_number,
    nhs_number_check_digit_ok,
    nhs_number_range,
)
from conformance.nhs.postcode import postcode_problem
from conformance.readers.base import Record
from conformance.standards.model import Requirement

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _nhs_numbers(resource: dict[str, Any]) -> Iterable[tuple[int, str | None]]:
    for index, ident in identifiers(resource, NHS_NUMBER_SYSTEM):
        value = ident.get("value")
        yield index, value if isinstance(value, str) else None


class NhsNumberPresent(RecordCheck):
    """MDSS-ID-01: an NHS Number identifier, or the reason it is unavailable."""

    def problems(self, resource: dict[str, Any]) -> Iterable[Problem]:
        for _, value in _nhs_numbers(resource):
            if value:
                return
        for _ in extensions(resource, ukcore.EXT_NHS_NUMBER_UNAVAILABLE_REASON):
            return
        yield Problem(
            "nhs-number-missing",
            "the Patient has no NHS Number identifier and no NHSNumberUnavailableReason",
            "Patient.identifier",
        )


class NhsNumberValid(RecordCheck):
    """MDSS-ID-02: NHS Numbers are 10 digits and pass the Modulus 11 check."""

    def problems(self, resource: dict[str, Any]) -> Iterable[Problem]:
        for index, value in _nhs_numbers(resource):
            where = f"Patient.identifier[{index}].value"
            if value is None:
                yield Problem("nhs-number-missing", "the NHS Number identifier has no value", where)
            elif not (len(value) == 10 and value.isascii() and value.isdigit()):
                yield Problem(
                    "nhs-number-format",
                    "the NHS Number {value} is not exactly 10 digits (no spaces)",
                    where,
                    value,
                    "nhs-number",
                )
            elif not nhs_number_check_digit_ok(value):
                yield Problem(
                    "nhs-number-check-digit",
                    "the NHS Number {value} fails the Modulus 11 check",
                    where,
                    value,
                    "nhs-number",
                )


@mypyc_attr(native_class=False)  # a subclass of Tally (not native): see hatch_build.py
@dataclass(slots=True)
class _RangeState(Tally):
    test_feed: bool = False


class NhsNumberRange(Check[_RangeState]):
    """MDSS-ID-03: no sentinel numbers; test-range numbers only in a test feed."""

    def start(self, context: RunContext) -> _RangeState:
        return _RangeState(test_feed=context.feed.environment == "test")

    def visit(self, state: _RangeState, record: Record, emit: Emit) -> None:
        resource = record.resource
        assert resource is not None
        state.checked += 1
        ok = True
        for index, value in _nhs_numbers(resource):
            if value is None or len(value) != 10 or not value.isdigit():
                continue  # format problems belong to MDSS-ID-02
            where = record.location.at(f"Patient.identifier[{index}].value")
            if is_sentinel_nhs_number(value):
                ok = False
                emit(
                    Problem(
                        "nhs-number-sentinel",
                        "the NHS Number {value} is a placeholder",
                        None,
                        value,
                        "nhs-number",
                    ),
                    where,
                    record.resource_type,
                    record.resource_id,
                )
            elif nhs_number_range(value) == "test" and not state.test_feed:
                ok = False
                emit(
                    Problem(
                        "nhs-number-test-range",
                        "the test-range NHS Number {value} appears in a feed not marked "
                        "environment: test",
                        None,
                        value,
                        "nhs-number",
                    ),
                    where,
                    record.resource_type,
                    record.resource_id,
                )
            elif nhs_number_range(value) == "never-issued":
                ok = False
                emit(
                    Problem(
                        "nhs-number-never-issued",
                        "the NHS Number {value} is in a range never issued",
                        None,
                        value,
                        "nhs-number",
                    ),
                    where,
                    record.resource_type,
                    record.resource_id,
                )
        if ok:
            state.passed += 1


@mypyc_attr(native_class=False)  # a subclass of Tally (not native): see hatch_build.py
@dataclass(slots=True)
class _VerifiedState(Tally):
    verified: int = 0


class NhsNumberVerified(Check[_VerifiedState]):
    """MDSS-ID-04: the NHS Number carries its verification status; share verified reported."""

    def start(self, context: RunContext) -> _VerifiedState:
        return _VerifiedState()

    def merge(self, state: _VerifiedState, other: _VerifiedState) -> _VerifiedState:
        state.verified += other.verified
        return super().merge(state, other)

    def visit(self, state: _VerifiedState, record: Record, emit: Emit) -> None:
        resource = record.resource
        assert resource is not None
        found_any = False
        for index, ident in identifiers(resource, NHS_NUMBER_SYSTEM):
            found_any = True
            state.checked += 1
            status = None
            for _, ext in extensions(ident, ukcore.EXT_NHS_NUMBER_VERIFICATION_STATUS):
                for _, coding in codings(ext.get("valueCodeableConcept")):
                    status = coding.get("code")
            if status is None:
                emit(
                    Problem(
                        "verification-status-missing",
                        "the NHS Number has no NHSNumberVerificationStatus extension",
                        f"Patient.identifier[{index}].extension",
                    ),
                    record.location.at(f"Patient.identifier[{index}]"),
                    record.resource_type,
                    record.resource_id,
                )
                continue
            state.passed += 1
            if status == "01":
                state.verified += 1
        if not found_any:
            return  # Patients without an NHS Number are MDSS-ID-01's concern

    def finish(self, state: _VerifiedState, context: FinishContext, emit: Emit) -> Measure:
        measure = Measure(state.passed, state.checked)
        if state.checked:
            measure.note = (
                f"{state.verified} of {state.checked} NHS Numbers verified (code 01): "
                f"{100.0 * state.verified / state.checked:.1f} %"
            )
        return measure


class Demographics(RecordCheck):
    """MDSS-ID-05: birthDate and gender present; birthDate valid and not in the future."""

    def __init__(self, requirement: Requirement, today: datetime.date | None) -> None:
        super().__init__(requirement)
        self.today = (today or datetime.date.today()).isoformat()

    def problems(self, resource: dict[str, Any]) -> Iterable[Problem]:
        birth = resource.get("birthDate")
        if birth is None:
            yield Problem("birth-date-missing", "Patient.birthDate is missing", "Patient.birthDate")
        elif not isinstance(birth, str) or not _DATE.match(birth) or not _real_date(birth):
            yield Problem(
                "birth-date-invalid", "Patient.birthDate is not a valid date", "Patient.birthDate"
            )
        elif birth > self.today[: len(birth)]:
            yield Problem(
                "birth-date-future", "Patient.birthDate is in the future", "Patient.birthDate"
            )
        if resource.get("gender") is None:
            yield Problem("gender-missing", "Patient.gender is missing", "Patient.gender")


def _real_date(text: str) -> bool:
    try:
        if len(text) == 10:
            datetime.date.fromisoformat(text)
        elif len(text) == 7:
            datetime.date.fromisoformat(text + "-01")
        return True
    except ValueError:
        return False


@dataclass(slots=True)
class _Ethnicity:
    checked: int = 0
    valid: int = 0
    defaults: int = 0
    passed: int = 0


class EthnicCategory(Check[_Ethnicity]):
    """MDSS-ID-06: ethnic category recorded with the England codes (DQMI-style).

    Measured as DQMI's item score: (valid codes - defaults in excess) / records, where
    Z (not stated) and 99 (not known) are defaults and ``default_threshold`` of the records
    may be defaults before they count against the feed.
    """

    def __init__(self, requirement: Requirement, default_threshold: float) -> None:
        super().__init__(requirement)
        self.default_threshold = default_threshold

    def start(self, context: RunContext) -> _Ethnicity:
        return _Ethnicity()

    def merge(self, state: _Ethnicity, other: _Ethnicity) -> _Ethnicity:
        for name in ("checked", "valid", "defaults", "passed"):
            setattr(state, name, getattr(state, name) + getattr(other, name))
        return state

    def visit(self, state: _Ethnicity, record: Record, emit: Emit) -> None:
        resource = record.resource
        assert resource is not None
        state.checked += 1
        code = None
        system_ok = False
        for _, ext in extensions(resource, ukcore.EXT_ETHNIC_CATEGORY):
            for _, coding in codings(ext.get("valueCodeableConcept")):
                code = coding.get("code")
                system_ok = coding.get("system") == ukcore.CS_ETHNIC_CATEGORY_ENGLAND
        location = record.location.at("Patient.extension")
        if code is None:
            emit(
                Problem("ethnic-category-missing", "no EthnicCategory extension"),
                location,
                record.resource_type,
                record.resource_id,
            )
        elif not system_ok or code not in ukcore.ETHNIC_CATEGORY_ENGLAND:
            emit(
                Problem(
                    "ethnic-category-invalid",
                    "the ethnic category is not an England code",
                    None,
                    code,
                    "code",
                ),
                location,
                record.resource_type,
                record.resource_id,
            )
        elif code in ukcore.ETHNIC_CATEGORY_DEFAULT_CODES:
            state.valid += 1
            state.defaults += 1
            # Reported so analysts can find them; they count against the score only in
            # excess of the default threshold (DQMI), so the finding is information.
            emit(
                Problem(
                    "ethnic-category-default",
                    "the ethnic category is a default code (Z not stated, 99 not known)",
                    None,
                    code,
                    "code",
                    Severity.INFORMATION,
                ),
                location,
                record.resource_type,
                record.resource_id,
            )
        else:
            state.valid += 1

    def finish(self, state: _Ethnicity, context: FinishContext, emit: Emit) -> Measure:
        excess = max(0, state.defaults - int(self.default_threshold * state.checked))
        score = max(0, state.valid - excess)
        note = None
        if state.checked:
            note = (
                f"{state.valid} valid of {state.checked}, {state.defaults} defaults "
                f"(Z/99), {excess} in excess of the default threshold"
            )
        return Measure(score, state.checked, note=note)


class PostcodeValid(RecordCheck):
    """MDSS-ID-07: postcodes are in valid UK format, or ZZ99 pseudo-postcodes."""

    def problems(self, resource: dict[str, Any]) -> Iterable[Problem]:
        addresses = resource.get("address")
        if not isinstance(addresses, list):
            return
        for index, address in enumerate(addresses):
            if not isinstance(address, dict):
                continue
            postcode = address.get("postalCode")
            if postcode is None:
                continue
            if not isinstance(postcode, str) or postcode_problem(postcode) is not None:
                yield Problem(
                    "postcode-invalid",
                    "the postcode {value} is not a valid UK postcode",
                    f"Patient.address[{index}].postalCode",
                    str(postcode),
                    "postcode",
                )


@dataclass(slots=True)
class _Unique:
    first_seen: dict[str, tuple[str, Place]] = field(default_factory=dict)
    """NHS Number -> (resource id, where first seen). Compact: one entry per number."""
    duplicates: list[tuple[str, str, Place, str | None]] = field(default_factory=list)
    """(NHS Number, resource id, where, expression) of each later holder of a number."""
    patients: int = 0


class NhsNumberUnique(Check[_Unique]):
    """MDSS-ID-08: no NHS Number shared by two distinct Patient resources (feed-level)."""

    def start(self, context: RunContext) -> _Unique:
        return _Unique()

    def visit(self, state: _Unique, record: Record, emit: Emit) -> None:
        resource = record.resource
        assert resource is not None
        state.patients += 1
        rid = record.resource_id or f"@{record.location}"
        for index, value in _nhs_numbers(resource):
            if not value or is_sentinel_nhs_number(value):
                continue  # placeholders are MDSS-ID-03's concern, not duplicates
            seen = state.first_seen.get(value)
            if seen is None:
                state.first_seen[value] = (rid, place_of(record.location))
            elif seen[0] != rid:
                where = f"Patient.identifier[{index}].value"
                state.duplicates.append((value, rid, place_of(record.location), where))

    def merge(self, state: _Unique, other: _Unique) -> _Unique:
        state.patients += other.patients
        state.duplicates.extend(other.duplicates)
        for value, seen in other.first_seen.items():
            mine = state.first_seen.get(value)
            if mine is None:
                state.first_seen[value] = seen
            elif mine[0] != seen[0]:
                state.duplicates.append((value, seen[0], seen[1], None))
        return state

    def finish(self, state: _Unique, context: FinishContext, emit: Emit) -> Measure:
        shared: set[str] = set()
        # Sorted by place, so the examples kept are the same however the feed was split.
        ordered = sorted(
            state.duplicates, key=lambda d: (d[2][0] or "", d[2][1] or 0, d[2][3] or 0)
        )
        for value, _rid, place, where in ordered:
            shared.add(value)
            emit(
                Problem(
                    "nhs-number-shared",
                    "the NHS Number {value} is also used by another Patient resource",
                    None,
                    value,
                    "nhs-number",
                ),
                located(place, where),
                "Patient",
            )
        # Patients whose number is shared do not pass (the first holder and each duplicate).
        affected = len(state.duplicates) + len(shared)
        return Measure(max(0, state.patients - affected), state.patients)


def _simple(cls: type[RecordCheck]) -> Any:
    def factory(requirement: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
        check = cls(requirement)
        if not requirement.applies_to:
            check.applies_to = frozenset({"Patient"})
        return check

    return factory


def _patient(check: Check[Any]) -> Check[Any]:
    if check.applies_to is None:
        check.applies_to = frozenset({"Patient"})
    return check


def nhs_number_range_factory(
    req: Requirement, params: Mapping[str, Any], env: CompileEnv
) -> Check[Any]:
    return _patient(NhsNumberRange(req))


def nhs_number_verified_factory(
    req: Requirement, params: Mapping[str, Any], env: CompileEnv
) -> Check[Any]:
    return _patient(NhsNumberVerified(req))


def demographics_factory(
    req: Requirement, params: Mapping[str, Any], env: CompileEnv
) -> Check[Any]:
    today = param(params, "today", str, "")
    return _patient(Demographics(req, datetime.date.fromisoformat(today) if today else None))


def ethnic_category_factory(
    req: Requirement, params: Mapping[str, Any], env: CompileEnv
) -> Check[Any]:
    threshold = param(params, "default_threshold", (int, float), 0.0)
    return _patient(EthnicCategory(req, float(threshold)))


def nhs_number_unique_factory(
    req: Requirement, params: Mapping[str, Any], env: CompileEnv
) -> Check[Any]:
    return _patient(NhsNumberUnique(req))


CHECK_TYPES: dict[str, Any] = {
    "nhs-number-present": _simple(NhsNumberPresent),
    "nhs-number-valid": _simple(NhsNumberValid),
    "nhs-number-range": nhs_number_range_factory,
    "nhs-number-verified": nhs_number_verified_factory,
    "demographics-present": demographics_factory,
    "ethnic-category": ethnic_category_factory,
    "postcode-valid": _simple(PostcodeValid),
    "nhs-number-unique": nhs_number_unique_factory,
}

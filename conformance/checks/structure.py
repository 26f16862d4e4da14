"""Structure requirements: records parse, conform to base FHIR R4 and to profiles."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from conformance.checks.base import (
    Check,
    CompileEnv,
    Emit,
    Measure,
    RecordCheck,
    RunContext,
    Tally,
    param,
)
from conformance.findings import Problem, Severity
from conformance.readers.base import Record, SourceIssue
from conformance.standards.model import Requirement


class ParseableCheck(Check):
    """Every record read parses as a FHIR R4 resource (or a table row).

    Measured as records validated / records read. A source-level error (a truncated
    gzip, a limit hit) fails the requirement outright, since records may be missing.
    """

    wants_unparseable = True

    def visit(self, state: Tally, record: Record, emit: Emit) -> None:
        state.checked += 1
        if record.error is None:
            state.passed += 1
            return
        emit(Problem(record.error.code, record.error.message), record.location)

    def finish(self, state: Tally, context: RunContext, emit: Emit) -> Measure:
        issues: list[SourceIssue] = context.extras.get("source_issues", [])
        errors = [i for i in issues if i.severity is Severity.ERROR]
        if errors:
            return Measure(
                state.passed,
                state.checked,
                status="fail",
                note=f"{len(errors)} input(s) could not be read completely",
            )
        return Measure(state.passed, state.checked)


class MetaProfileCheck(RecordCheck):
    """Resources declare the profile they claim to conform to in ``meta.profile``."""

    def __init__(self, requirement: Requirement, expected: Mapping[str, tuple[str, ...]]) -> None:
        super().__init__(requirement)
        self.expected = expected
        if not requirement.applies_to and expected:
            self.applies_to = frozenset(expected)

    def problems(self, resource: dict[str, Any]) -> Iterable[Problem]:
        meta = resource.get("meta")
        declared = meta.get("profile") if isinstance(meta, dict) else None
        if not isinstance(declared, list) or not declared:
            yield Problem("profile-not-declared", "meta.profile is missing", "meta.profile")
            return
        wanted = self.expected.get(resource["resourceType"])
        if wanted and not any(p.split("|")[0] in wanted for p in declared if isinstance(p, str)):
            yield Problem(
                "profile-not-declared",
                "meta.profile does not name the standard's profile for this resource type",
                "meta.profile",
            )


class FhirConformanceCheck(RecordCheck):
    """Resources conform to base FHIR R4 (and, with ``profiles: true``, to the profiles).

    Uses the FHIR engine in :mod:`conformance.fhir`; each issue it reports becomes a
    finding with the element path as its location.
    """

    def __init__(
        self,
        requirement: Requirement,
        validator: Any,
        profiles: bool,
        standard_profiles: Mapping[str, tuple[str, ...]],
        include_base: bool,
    ) -> None:
        super().__init__(requirement)
        self.validator = validator
        self.use_profiles = profiles
        self.include_base = include_base
        self.standard_profiles = standard_profiles
        if profiles and not requirement.applies_to and standard_profiles:
            self.applies_to = frozenset(standard_profiles)

    def problems(self, resource: dict[str, Any]) -> Iterable[Problem]:
        profiles = (
            self.standard_profiles.get(resource["resourceType"], ()) if self.use_profiles else ()
        )
        for issue in self.validator.validate(resource, profiles):
            is_base = issue.source == "base"
            if self.use_profiles and not self.include_base and is_base:
                continue
            if not self.use_profiles and not is_base:
                continue
            yield Problem(
                issue.code,
                issue.message,
                issue.expression,
                severity=Severity(issue.severity) if issue.severity != "error" else None,
            )


def fhir_validator(env: CompileEnv, profiles: bool) -> Any:
    """The run's FHIR validator, built once and shared by the structure checks."""
    from conformance.fhir.validator import FhirValidator

    def build() -> Any:
        validator = FhirValidator.base()
        folders = [
            folder
            for kind in ("profiles", "terminology")
            for folder in env.standard.resource_folders(kind)
            if any(folder.iterdir())
        ]
        extra = env.services.get("fhir-packages", [])
        if folders or extra:
            from conformance.fhir.validator import DefinitionSet

            validator = validator.with_definitions(DefinitionSet.load([*folders, *extra]))
        return validator

    return env.service("fhir-validator", build)


def parseable(requirement: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check:
    return ParseableCheck(requirement)


def fhir_base(requirement: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check:
    profiles = param(params, "profiles", bool, False)
    include_base = param(params, "include_base", bool, not profiles)
    return FhirConformanceCheck(
        requirement, fhir_validator(env, profiles), profiles, env.standard.profiles, include_base
    )


def fhir_profiles(requirement: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check:
    return FhirConformanceCheck(
        requirement, fhir_validator(env, True), True, env.standard.profiles, False
    )


def meta_profile(requirement: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check:
    return MetaProfileCheck(requirement, env.standard.profiles)

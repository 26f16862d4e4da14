"""Structure requirements: records parse, conform to base FHIR R4 and to profiles."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from conformance.checks.base import (
    Check,
    CheckParamError,
    CompileEnv,
    Emit,
    FinishContext,
    Measure,
    RecordCheck,
    Tally,
    param,
)
from conformance.errors import StandardError
from conformance.findings import Problem, Severity
from conformance.readers.base import Record
from conformance.standards.model import Requirement


class ParseableCheck(Check[Tally]):
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

    def finish(self, state: Tally, context: FinishContext, emit: Emit) -> Measure:
        errors = [i for i in context.source_issues if i.severity is Severity.ERROR]
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


CORE_PROFILE_PREFIX = "http://hl7.org/fhir/StructureDefinition/"


class SharedValidation:
    """The run's FHIR validator, shared by every check that needs its issues.

    STR-02, STR-03 and the terminology checks all read the issues of the same resource:
    the last resource's issues are kept so that it is validated once, not once per check.
    :meth:`issues` always applies the standard's profiles for the resource's type, so one
    cached result serves base and profile checks alike.
    """

    def __init__(self, validator: Any, standard_profiles: Mapping[str, tuple[str, ...]]) -> None:
        self.validator = validator
        self.standard_profiles = standard_profiles
        self._last: dict[str, Any] | None = None
        self._last_profiles: tuple[str, ...] = ()
        self._issues: list[Any] = []

    def validate(self, resource: dict[str, Any], profiles: Sequence[str] = ()) -> list[Any]:
        key = tuple(profiles)
        if resource is not self._last or key != self._last_profiles:
            self._issues = self.validator.validate(resource, key)
            self._last = resource
            self._last_profiles = key
        return self._issues

    def issues(self, resource: dict[str, Any]) -> list[Any]:
        return self.validate(resource, self.standard_profiles.get(resource["resourceType"], ()))


class FhirConformanceCheck(RecordCheck):
    """Resources conform to base FHIR R4, or to the standard's (and claimed) profiles.

    Uses the FHIR engine in :mod:`conformance.fhir`; each issue it reports becomes a
    finding with the element path as its location. Issues from the base specification
    (including the core profiles R4 itself mandates, such as vital signs) count for the
    base requirement; issues from other profiles count for the profile requirement.
    ``ignore`` lists invariant keys not to report (e.g. dom-6, narrative, a best-practice
    warning that bulk exports by design do not meet).
    """

    def __init__(
        self,
        requirement: Requirement,
        shared: SharedValidation,
        profiles: bool,
        ignore: frozenset[str],
    ) -> None:
        super().__init__(requirement)
        self.shared = shared
        self.use_profiles = profiles
        self.ignore = ignore
        if profiles and not requirement.applies_to and shared.standard_profiles:
            self.applies_to = frozenset(shared.standard_profiles)

    def problems(self, resource: dict[str, Any]) -> Iterable[Problem]:
        want_core = not self.use_profiles
        ignore = self.ignore
        for issue in self.shared.issues(resource):
            source = issue.source
            is_core = source == "base" or source.startswith(CORE_PROFILE_PREFIX)
            if is_core is not want_core:
                continue
            if ignore and issue.key in ignore:
                continue
            yield Problem(
                issue.code,
                issue.message,
                issue.expression,
                severity=Severity(issue.severity) if issue.severity != "error" else None,
            )


def fhir_validator(env: CompileEnv, profiles: bool = True) -> SharedValidation:
    """The run's shared FHIR validation, built once (see :class:`SharedValidation`)."""
    from conformance.fhir.validator import FhirValidator

    def build() -> SharedValidation:
        validator = FhirValidator.base()
        folders = [
            folder
            for kind in ("profiles", "terminology")
            for folder in env.standard.resource_folders(kind)
            if any(folder.iterdir())
        ]
        extra = env.services.get("fhir-packages", [])
        if folders or extra:
            from conformance.fhir.definitions import DefinitionSet
            from conformance.fhir.errors import DefinitionError
            from conformance.nhs.constraints import NHS_CONSTRAINTS

            try:
                definitions = DefinitionSet.load([*folders, *extra])
                validator = validator.with_definitions(definitions, NHS_CONSTRAINTS)
            except DefinitionError as exc:
                message = f"{env.standard.ref}: a FHIR definition does not load: {exc}"
                raise StandardError(message) from None
        examples, domains = env.services.get("fhir-extensions", (False, ()))
        if examples or domains:  # --allow-example-extensions, --allow-extension-domain
            validator = validator.allowing_extensions(examples, domains)
        return SharedValidation(validator, env.standard.profiles)

    shared: SharedValidation = env.service("fhir-validator", build)
    return shared


def parseable(requirement: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
    return ParseableCheck(requirement)


def _ignore(params: Mapping[str, Any]) -> frozenset[str]:
    keys = param(params, "ignore", list, [])
    if not all(isinstance(k, str) for k in keys):
        raise CheckParamError("parameter 'ignore' must be a list of invariant keys")
    return frozenset(keys)


def fhir_base(requirement: Requirement, params: Mapping[str, Any], env: CompileEnv) -> Check[Any]:
    return FhirConformanceCheck(requirement, fhir_validator(env), False, _ignore(params))


def fhir_profiles(
    requirement: Requirement, params: Mapping[str, Any], env: CompileEnv
) -> Check[Any]:
    return FhirConformanceCheck(requirement, fhir_validator(env), True, _ignore(params))


def meta_profile(
    requirement: Requirement, params: Mapping[str, Any], env: CompileEnv
) -> Check[Any]:
    return MetaProfileCheck(requirement, env.standard.profiles)

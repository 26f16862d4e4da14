"""Structure requirements: records parse, conform to base FHIR R4 and to profiles."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

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
from conformance.errors import StandardError, UsageError
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
        return _parse_measure(state, context)


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
        self.profile_entries = False
        """Apply the profiles of each type to the entries of a whole Bundle, too."""
        self._bundle: dict[str, Any] | None = None
        self._bundle_issues: list[Any] = []

    def validate(self, resource: dict[str, Any], profiles: Sequence[str] = ()) -> list[Any]:
        key = tuple(profiles)
        if resource is not self._last or key != self._last_profiles:
            self._issues = self.validator.validate(resource, key)
            self._last = resource
            self._last_profiles = key
        return self._issues

    def issues(self, resource: dict[str, Any]) -> list[Any]:
        rtype = resource["resourceType"]
        found = self.validate(resource, self.standard_profiles.get(rtype, ()))
        if rtype != "Bundle" or not self.profile_entries:
            return found
        if resource is not self._bundle:
            self._bundle = resource
            # an entry's claimed profile may be its type's too: each issue once
            self._bundle_issues = list(
                dict.fromkeys([*found, *self._entry_issues(resource, "Bundle")])
            )
        return self._bundle_issues

    def _entry_issues(self, bundle: dict[str, Any], prefix: str) -> list[Any]:
        """The issues of a whole Bundle's entries against the profiles of their types,
        at their place in the Bundle (nested Bundles too)."""
        out: list[Any] = []
        entries = bundle.get("entry")
        for i, entry in enumerate(entries if isinstance(entries, list) else ()):
            res = entry.get("resource") if isinstance(entry, dict) else None
            rtype = res.get("resourceType") if isinstance(res, dict) else None
            if not isinstance(rtype, str):
                continue
            here = f"{prefix}.entry[{i}].resource"
            profiles = self.standard_profiles.get(rtype, ())
            for issue in self.validator.registry.validate(res, profiles, (), True):
                expr = issue.expression
                if expr.startswith(rtype):
                    expr = here + expr[len(rtype) :]
                out.append(issue._replace(expression=expr))
            if rtype == "Bundle" and isinstance(res, dict):
                out.extend(self._entry_issues(res, here))
        return out


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
        profiles: bool | None,
        ignore: frozenset[str],
    ) -> None:
        """``profiles``: the profile issues (True), the base ones (False), or all (None)."""
        super().__init__(requirement)
        self.shared = shared
        self.use_profiles = profiles
        self.ignore = ignore
        if profiles and not requirement.applies_to and shared.standard_profiles:
            self.applies_to = frozenset(shared.standard_profiles)

    def problems(self, resource: dict[str, Any]) -> Iterable[Problem]:
        want_core = not self.use_profiles
        every = self.use_profiles is None
        ignore = self.ignore
        for issue in self.shared.issues(resource):
            source = issue.source
            is_core = source == "base" or source.startswith(CORE_PROFILE_PREFIX)
            if is_core is not want_core and not every:
                continue
            if ignore and issue.key in ignore:
                continue
            yield Problem(
                issue.code,
                issue.message,
                issue.expression,
                severity=Severity(issue.severity) if issue.severity != "error" else None,
            )


PACKAGES_SERVICE = "fhir-packages"
"""The :class:`CompileEnv` service holding the run's extra FHIR packages (paths)."""
PROFILES_SERVICE = "fhir-profiles"
"""The :class:`CompileEnv` service holding the profiles the run applies (canonical URLs)."""
EXTENSIONS_SERVICE = "fhir-extensions"
"""The :class:`CompileEnv` service holding which extensions without a definition the run
accepts: (example domains?, URL prefixes) from ``--allow-example-extensions`` and
``--allow-extension-domain``."""


class FhirResourcesCheck(FhirConformanceCheck):
    """Every record read is a FHIR R4 resource conforming to R4 and to the profiles that
    apply (a FHIR validator's verdict, as one requirement): unparseable records and
    inputs that cannot be read completely fail it too."""

    wants_unparseable = True
    whole_bundles: ClassVar[bool] = True
    """A Bundle is one record: its own rules (fullUrl, references between entries, a
    profile on the Bundle) are checked with its entries, as a FHIR validator does."""

    def visit(self, state: Tally, record: Record, emit: Emit) -> None:
        if record.error is not None:
            state.checked += 1
            emit(Problem(record.error.code, record.error.message), record.location)
        elif record.table is None:  # a table row is no FHIR resource
            super().visit(state, record, emit)

    def finish(self, state: Tally, context: FinishContext, emit: Emit) -> Measure:
        return _parse_measure(state, context)


def _parse_measure(state: Tally, context: FinishContext) -> Measure:
    """Records passing of records checked; failed outright if an input was cut short."""
    errors = [i for i in context.source_issues if i.severity is Severity.ERROR]
    if errors:
        note = f"{len(errors)} input(s) could not be read completely"
        return Measure(state.passed, state.checked, status="fail", note=note)
    return Measure(state.passed, state.checked)


def fhir_validator(env: CompileEnv, profiles: bool = True) -> SharedValidation:
    """The run's shared FHIR validation, built once (see :class:`SharedValidation`).

    It knows the standard's profiles and terminology, the run's extra packages
    (``--package``), and applies per resource type the standard's profiles, the global
    profiles of the ImplementationGuides loaded and the run's own (``--profile``).
    """
    from conformance.fhir.validator import FhirValidator

    def build() -> SharedValidation:
        validator = FhirValidator.base()
        folders = [
            folder
            for kind in ("profiles", "terminology")
            for folder in env.standard.resource_folders(kind)
            if any(folder.iterdir())
        ]
        extra = [Path(p) for p in env.services.get(PACKAGES_SERVICE, ())]
        wanted: tuple[str, ...] = tuple(env.services.get(PROFILES_SERVICE, ()))
        examples, domains = env.services.get(EXTENSIONS_SERVICE, (False, ()))
        if examples or domains:  # --allow-example-extensions, --allow-extension-domain
            validator = validator.allowing_extensions(examples, domains)
        if not (folders or extra or wanted):
            return SharedValidation(validator, env.standard.profiles)
        from conformance.fhir.definitions import DefinitionSet
        from conformance.fhir.errors import DefinitionError
        from conformance.nhs.constraints import NHS_CONSTRAINTS

        try:
            definitions = DefinitionSet.load(folders)
        except DefinitionError as exc:
            message = f"{env.standard.ref}: a FHIR definition does not load: {exc}"
            raise StandardError(message) from None
        try:
            definitions = definitions.merged(DefinitionSet.load_packages(extra)[0])
        except (DefinitionError, OSError) as exc:
            raise UsageError(f"--package: {exc}") from None
        validator = validator.with_definitions(definitions, NHS_CONSTRAINTS)
        applied = _merge(env.standard.profiles, definitions.global_profiles())
        return SharedValidation(validator, _merge(applied, _run_profiles(validator, wanted)))

    shared: SharedValidation = env.service("fhir-validator", build)
    return shared


def _run_profiles(validator: Any, urls: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """The ``--profile`` URLs by the resource type each constrains (usage errors for a
    profile not known, or not of a resource)."""
    from conformance.fhir.resource_types import RESOURCE_TYPES

    out: dict[str, tuple[str, ...]] = {}
    for url in urls:
        if validator.registry.is_core_type(url) and url.rsplit("/", 1)[-1] in RESOURCE_TYPES:
            out.setdefault(url.rsplit("/", 1)[-1], ())  # a base resource type: R4 itself
            continue
        sd = validator.registry.structure_definition(url)
        if sd is None:
            raise UsageError(f"--profile {url}: no such profile in the standard or the packages")
        rtype = sd.get("type")
        if sd.get("kind") != "resource" or not isinstance(rtype, str):
            raise UsageError(f"--profile {url}: a profile of {rtype}, not of a resource type")
        out[rtype] = (*out.get(rtype, ()), url)
    return out


def _merge(
    first: Mapping[str, tuple[str, ...]], second: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    out = {k: tuple(v) for k, v in first.items()}
    for rtype, urls in second.items():
        out[rtype] = (*out.get(rtype, ()), *(u for u in urls if u not in out.get(rtype, ())))
    return out


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


def fhir_resources(
    requirement: Requirement, params: Mapping[str, Any], env: CompileEnv
) -> Check[Any]:
    shared = fhir_validator(env)
    shared.profile_entries = True  # Bundles are read whole (FhirResourcesCheck.whole_bundles)
    return FhirResourcesCheck(requirement, shared, None, _ignore(params))


def meta_profile(
    requirement: Requirement, params: Mapping[str, Any], env: CompileEnv
) -> Check[Any]:
    return MetaProfileCheck(requirement, env.standard.profiles)

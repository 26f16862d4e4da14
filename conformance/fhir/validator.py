"""Offline FHIR R4 validation: base specification plus profiles.

The base walk is the compiled checks of the base model (:mod:`base_check`); profiles and
extension definitions are compiled on first use by the profile registry (:mod:`profiles`),
which the validator gives its own base validation. Messages never carry values from the
resource: they say what is wrong and where.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from conformance.fhir.base_check import BaseChecks, base_checks
from conformance.fhir.bundle_rules import searchset_issues
from conformance.fhir.example_urls import judged
from conformance.fhir.invariants import Implementations
from conformance.fhir.issues import ExtensionUse, FhirIssue
from conformance.fhir.model import Model, base_model
from conformance.fhir.references import TargetProfiles, resolved_references
from conformance.fhir.supplements import supplement_issues

if TYPE_CHECKING:
    from conformance.fhir.definitions import DefinitionSet
    from conformance.fhir.profiles import ProfileRegistry

__all__ = ["FhirIssue", "FhirValidator"]


class FhirValidator:
    """Base R4 validation, optionally extended with profiles and terminology."""

    _base: FhirValidator | None = None

    def __init__(
        self,
        model: Model,
        registry: ProfileRegistry | None = None,
        allow_example_urls: bool = False,
        implementations: Implementations | None = None,
    ) -> None:
        self._model = model
        self._registry = registry
        self.allow_example_urls = allow_example_urls
        #: profile constraints evaluated in Python (see ConstraintImplementation)
        self.implementations: Implementations = dict(implementations or {})
        self._checks: BaseChecks = base_checks() if model is base_model() else BaseChecks(model)

    def allowing_example_urls(self) -> FhirValidator:
        """A validator that accepts undefined extensions on example domains (example.org),
        as HL7's own example build does; feeds should not carry them."""
        return FhirValidator(
            self._model,
            self._registry,
            allow_example_urls=True,
            implementations=self.implementations,
        )

    @classmethod
    def base(cls) -> FhirValidator:
        """Base R4 only; cached per process."""
        if cls._base is None:
            cls._base = cls(base_model())
        return cls._base

    @property
    def model(self) -> Model:
        return self._model

    def with_definitions(
        self, definitions: DefinitionSet, implementations: Implementations | None = None
    ) -> FhirValidator:
        """A validator that also knows the profiles, extensions and terminology given,
        and the constraint ``implementations`` (with this validator's own)."""
        parent = self._registry.definitions if self._registry is not None else None
        merged = definitions if parent is None else parent.merged(definitions)
        known = {**self.implementations, **(implementations or {})}
        return FhirValidator(
            self._model,
            self._new_registry(merged, known),
            self.allow_example_urls,
            known,
        )

    def _new_registry(
        self, definitions: DefinitionSet, implementations: Implementations
    ) -> ProfileRegistry:
        from conformance.fhir.profiles import ProfileRegistry

        return ProfileRegistry(self._model, definitions, _base_validation, implementations)

    @property
    def registry(self) -> ProfileRegistry:
        if self._registry is None:
            from conformance.fhir.definitions import DefinitionSet

            self._registry = self._new_registry(DefinitionSet([]), self.implementations)
        return self._registry

    def base_issues(self, resource: Any) -> list[FhirIssue]:
        """The issues of the base R4 walk alone: no profile, no extension definition."""
        found = [f for f in self._checks.validate(resource) if isinstance(f, FhirIssue)]
        return judged(found, resource, self.allow_example_urls, None)

    def validate(self, resource: dict[str, Any], profiles: Sequence[str] = ()) -> list[FhirIssue]:
        """Validate against base R4, the given profiles and those claimed in meta.profile."""
        found = self._checks.validate(resource)
        issues: list[FhirIssue] = []
        extensions: list[ExtensionUse] = []
        for f in found:
            if isinstance(f, FhirIssue):
                issues.append(f)
            else:
                extensions.append(f)
        claimed = _claimed_profiles(resource)
        vital = _vital_signs_profile(resource)
        if vital is not None:
            profiles = (*profiles, vital)
        extra = False
        if extensions:
            got = self.registry.check_extensions(extensions, self.allow_example_urls)
            extra = bool(got)
            issues.extend(got)
        if self._registry is not None:  # codings naming a loaded supplement
            issues.extend(supplement_issues(resource, self._registry.definitions))
        if profiles or claimed:
            issues.extend(self.registry.validate(resource, profiles, claimed, True))
            extra = True
        if type(resource) is dict:
            rtype = resource.get("resourceType")
            if rtype == "Bundle" or rtype == "Parameters" or "contained" in resource:
                top = (*profiles, *claimed)

                def applied(res: dict[str, Any]) -> tuple[str, ...]:
                    if res is resource:
                        return top
                    vital = _vital_signs_profile(res)
                    own = _claimed_profiles(res)
                    return own if vital is None else (*own, vital)

                targets = TargetProfiles(self.registry, applied)
                got = self._bundle_entry_profiles(resource) if rtype == "Bundle" else []
                if rtype == "Bundle":
                    got.extend(searchset_issues(resource, self._model.resource_types))
                got.extend(resolved_references(resource, self._model, targets))
                extra = extra or bool(got)
                issues.extend(got)
        loaded = self._registry.definitions if self._registry is not None else None
        issues = judged(issues, resource, self.allow_example_urls, loaded)  # example URLs
        if extra:  # the same finding can come from a profile and an extension definition
            issues = list(dict.fromkeys(issues))
        return issues

    def _bundle_entry_profiles(self, bundle: dict[str, Any]) -> list[FhirIssue]:
        out: list[FhirIssue] = []
        entries = bundle.get("entry")
        if type(entries) is not list:
            return out
        for i, entry in enumerate(entries):
            res = entry.get("resource") if type(entry) is dict else None
            if type(res) is not dict:
                continue
            claimed = _claimed_profiles(res)
            vital = _vital_signs_profile(res)
            if vital is not None:
                claimed = (*claimed, vital)
            if claimed:
                prefix = f"Bundle.entry[{i}].resource"
                for issue in self.registry.validate(res, (), claimed, True):
                    expr = issue.expression
                    rtype = res.get("resourceType")
                    if isinstance(rtype, str) and expr.startswith(rtype):
                        expr = prefix + expr[len(rtype) :]
                    out.append(issue._replace(expression=expr))
            if res.get("resourceType") == "Bundle":
                out.extend(self._bundle_entry_profiles(res))
        return out

    def must_support_paths(self, profile: str, inherited: bool = True) -> list[str]:
        """The element ids a profile flags mustSupport (for completeness scoring).

        ``inherited=False`` gives only those the profile's own differential flags, not the
        ones its base profiles (e.g. UK Core) already flag.
        """
        return self.registry.must_support_paths(profile, inherited)


_SD = "http://hl7.org/fhir/StructureDefinition/"
_LOINC = "http://loinc.org"
_SCT = "http://snomed.info/sct"
#: R4 requires vital-sign Observations to conform to these core profiles (R4 §8.1.2);
#: the LOINC codes are the profiles' own, the SNOMED CT ones the equivalents HL7's
#: validator also recognises.
_VITAL_SIGNS: dict[tuple[str, str], str] = {
    (_LOINC, "85353-1"): _SD + "vitalspanel",
    (_LOINC, "9279-1"): _SD + "resprate",
    (_LOINC, "8867-4"): _SD + "heartrate",
    (_LOINC, "2708-6"): _SD + "oxygensat",
    (_LOINC, "8310-5"): _SD + "bodytemp",
    (_LOINC, "8302-2"): _SD + "bodyheight",
    (_LOINC, "9843-4"): _SD + "headcircum",
    (_LOINC, "29463-7"): _SD + "bodyweight",
    (_LOINC, "39156-5"): _SD + "bmi",
    (_LOINC, "85354-9"): _SD + "bp",
    (_SCT, "86290005"): _SD + "resprate",
    (_SCT, "364075005"): _SD + "heartrate",
    (_SCT, "276885007"): _SD + "bodytemp",
    (_SCT, "50373000"): _SD + "bodyheight",
    (_SCT, "363812007"): _SD + "headcircum",
    (_SCT, "27113001"): _SD + "bodyweight",
    (_SCT, "60621009"): _SD + "bmi",
    (_SCT, "75367002"): _SD + "bp",
}


def _vital_signs_profile(resource: Any) -> str | None:
    if type(resource) is not dict or resource.get("resourceType") != "Observation":
        return None
    code = resource.get("code")
    codings = code.get("coding") if type(code) is dict else None
    if type(codings) is not list:
        return None
    for c in codings:
        if type(c) is dict:
            system, value = c.get("system"), c.get("code")
            if type(system) is not str or type(value) is not str:
                continue
            hit = _VITAL_SIGNS.get((system, value))
            if hit is not None:
                return hit
    return None


def _claimed_profiles(resource: Any) -> tuple[str, ...]:
    if type(resource) is not dict:
        return ()
    meta = resource.get("meta")
    if type(meta) is not dict:
        return ()
    claimed = meta.get("profile")
    if type(claimed) is not list:
        return ()
    return tuple(p for p in claimed if type(p) is str)


def _base_validation(resource: Any) -> list[FhirIssue]:
    """What a profile registry asks when it needs a resource's base validation."""
    return FhirValidator.base().validate(resource)

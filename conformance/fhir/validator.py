"""Offline FHIR R4 validation: base specification plus profiles.

The base walk is the compiled checks of the base model (:mod:`base_check`); profiles and
extension definitions are compiled on first use by the profile registry (:mod:`profiles`),
which the validator gives its own base validation. Messages never carry values from the
resource: they say what is wrong and where.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from conformance.fhir.base_check import BaseChecks, base_checks
from conformance.fhir.bundle_rules import searchset_issues
from conformance.fhir.example_urls import judged
from conformance.fhir.extensions import ExtensionPolicy
from conformance.fhir.invariants import Implementations
from conformance.fhir.issues import ExtensionUse, FhirIssue
from conformance.fhir.model import Model, base_model
from conformance.fhir.references import TargetProfiles, resolved_references
from conformance.fhir.supplements import supplement_issues
from conformance.fhir.vital_signs import implied_profile

if TYPE_CHECKING:
    from conformance.fhir.definitions import DefinitionSet
    from conformance.fhir.profiles import ProfileRegistry

__all__ = ["FhirIssue", "FhirValidator"]


class FhirValidator:
    """Base R4 validation, optionally extended with profiles and terminology."""

    _base: ClassVar[FhirValidator | None] = None  # a per-class cache (ClassVar for mypyc)

    def __init__(
        self,
        model: Model,
        registry: ProfileRegistry | None = None,
        allow_example_urls: bool = False,
        implementations: Implementations | None = None,
        extension_domains: Sequence[str] = (),
    ) -> None:
        self._model = model
        self._registry = registry
        #: which extensions without a definition are accepted (see ExtensionPolicy)
        self.extension_policy = ExtensionPolicy(allow_example_urls, tuple(extension_domains))
        #: profile constraints evaluated in Python (see ConstraintImplementation)
        self.implementations: Implementations = dict(implementations or {})
        self._checks: BaseChecks = base_checks() if model is base_model() else BaseChecks(model)

    @property
    def allow_example_urls(self) -> bool:
        return self.extension_policy.allow_examples

    def allowing_example_urls(self) -> FhirValidator:
        """A validator that accepts undefined extensions on example domains (example.org),
        as HL7's own example build does; feeds should not carry them."""
        return self.allowing_extensions(True, self.extension_policy.domains)

    def allowing_extensions(self, examples: bool, domains: Sequence[str] = ()) -> FhirValidator:
        """A validator that accepts extensions without a definition on ``domains`` (URL
        prefixes) and, with ``examples``, on example domains (``--allow-extension-domain``
        and ``--allow-example-extensions`` of the command line); unknown modifier
        extensions stay errors."""
        return FhirValidator(
            self._model,
            self._registry,
            examples,
            self.implementations,
            domains,
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
            self.extension_policy.domains,
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
        extra = False
        if extensions:
            got = self.registry.check_extensions(extensions, self.extension_policy, resource)
            extra = bool(got)
            issues.extend(got)
        if self._registry is not None:  # codings naming a loaded supplement
            issues.extend(supplement_issues(resource, self._registry.definitions))
        got = self._profile_issues(resource, str(resource.get("resourceType")), profiles)
        if got:
            issues.extend(got)
            extra = True
        if type(resource) is dict:
            rtype = resource.get("resourceType")
            if rtype == "Bundle" or rtype == "Parameters" or "contained" in resource:
                targets = TargetProfiles(self.registry, _applied_profiles(resource, profiles))
                got = resolved_references(resource, self._model, targets)
                if rtype == "Bundle":
                    got.extend(searchset_issues(resource, self._model.resource_types))
                extra = extra or bool(got)
                issues.extend(got)
        loaded = self._registry.definitions if self._registry is not None else None
        issues = judged(issues, resource, self.allow_example_urls, loaded)  # example URLs
        if extra:  # the same finding can come from a profile and an extension definition
            issues = list(dict.fromkeys(issues))
        return issues

    def _profile_issues(
        self, resource: Any, at: str, profiles: Sequence[str] = ()
    ) -> list[FhirIssue]:
        """Issues of ``resource`` (at path ``at``) and of every resource inside it (contained
        resources, Bundle entries, at any depth) against the ``profiles`` asked for (the
        top resource only), those each claims in meta.profile and the vital-signs profile
        its code implies (named in the message of each issue it causes)."""
        if type(resource) is not dict:
            return []
        rtype = resource.get("resourceType")
        claimed = _claimed_profiles(resource)
        implied = implied_profile(resource)
        out: list[FhirIssue] = []
        if implied is not None and implied.profile not in profiles:
            found = self.registry.validate(resource, (*profiles, implied.profile), claimed, True)
            if found:
                why = f" ({implied.because()})"
                url = implied.profile
                out = [f._replace(message=f.message + why) if f.source == url else f for f in found]
        elif profiles or claimed:
            out = self.registry.validate(resource, profiles, claimed, True)
        if out and at != rtype:
            out = _placed(out, rtype, at)
        contained = resource.get("contained")
        if type(contained) is list:
            for i, res in enumerate(contained):
                out.extend(self._profile_issues(res, f"{at}.contained[{i}]"))
        if rtype == "Bundle":
            entries = resource.get("entry")
            if type(entries) is list:
                for i, entry in enumerate(entries):
                    if type(entry) is dict:
                        res = entry.get("resource")
                        out.extend(self._profile_issues(res, f"{at}.entry[{i}].resource"))
        return out

    def must_support_paths(self, profile: str, inherited: bool = True) -> list[str]:
        """The element ids a profile flags mustSupport (for completeness scoring).

        ``inherited=False`` gives only those the profile's own differential flags, not the
        ones its base profiles (e.g. UK Core) already flag.
        """
        return self.registry.must_support_paths(profile, inherited)


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


def _applied_profiles(
    top: dict[str, Any], profiles: Sequence[str]
) -> Callable[[dict[str, Any]], tuple[str, ...]]:
    """The profiles that apply to a resource inside ``top`` (or ``top`` itself, to which
    ``profiles`` are applied too): those it claims and the vital-signs one it implies."""

    def applied(res: dict[str, Any]) -> tuple[str, ...]:
        own = _claimed_profiles(res)
        if res is top:
            own = (*profiles, *own)
        implied = implied_profile(res)
        return own if implied is None else (*own, implied.profile)

    return applied


def _placed(found: list[FhirIssue], rtype: Any, at: str) -> list[FhirIssue]:
    """Issues of a resource, their paths moved to where the resource sits."""
    if not isinstance(rtype, str):
        return found
    n = len(rtype)
    return [
        f._replace(expression=at + f.expression[n:]) if f.expression.startswith(rtype) else f
        for f in found
    ]


def _base_validation(resource: Any) -> list[FhirIssue]:
    """What a profile registry asks when it needs a resource's base validation."""
    return FhirValidator.base().validate(resource)

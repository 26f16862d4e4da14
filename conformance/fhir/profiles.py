"""The profile registry: profiles, extensions and terminology known to a validator, and
their application to resources.

Profiles come from a :class:`~conformance.fhir.definitions.DefinitionSet` plus the core
profiles shipped with the package; each is compiled once (:mod:`profile_model`, then
:mod:`profile_check`). The registry never validates base R4 itself: the validator gives
it a *base check* (used where a profile discriminator needs to know whether a resource
conforms), so the registry does not depend on the validator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from conformance.fhir.data import core_codesystem, core_expansion, core_profiles
from conformance.fhir.definitions import DefinitionSet
from conformance.fhir.discriminators import SliceMatchers, path_resolves
from conformance.fhir.extensions import Context, ExtensionPolicy, Place, context_issues, locate
from conformance.fhir.invariants import Implementations
from conformance.fhir.issues import ExtensionUse, FhirIssue, issues_only, moved
from conformance.fhir.model import Model
from conformance.fhir.profile_check import ProfileChecks, RootRule
from conformance.fhir.profile_model import (
    CORE_SD,
    CompiledProfile,
    PElem,
    ProfileCompiler,
    ProfileError,
)
from conformance.fhir.terminology import CodeSystemInfo, Expander, Expansion, strip_version

__all__ = ["CORE_SD", "ProfileError", "ProfileRegistry"]

#: the base validation of a resource (its issues)
BaseCheck = Callable[[Any], "list[FhirIssue]"]
#: see ProfileRegistry._use
_Use = ProfileError | str | tuple[str, RootRule] | None


class ProfileRegistry:
    """Compiles and applies profiles from a DefinitionSet plus the core profiles."""

    def __init__(
        self,
        model: Model,
        definitions: DefinitionSet,
        base_check: BaseCheck,
        implementations: Implementations | None = None,
    ) -> None:
        self.model = model
        self.definitions = definitions
        self.base_check = base_check
        self.implementations: Implementations = implementations or {}
        self._compiled: dict[str, CompiledProfile | ProfileError] = {}
        self._cs_cache: dict[str, CodeSystemInfo | None] = {}
        self._expander = Expander(self._valueset, self._codesystem, core_expansion)
        self._bindings: dict[str, Expansion | None] = {}
        self._uses: dict[tuple[str, bool], _Use] = {}
        self._contexts: dict[str, Context | None] = {}
        self._compiler = ProfileCompiler(model, self.structure_definition, self.implementations)
        self.checks = ProfileChecks(
            self,
            SliceMatchers(
                self.expansion,
                self.conforms,
                lambda path, steps: path_resolves(
                    self._compiler.base_row, model.types, path, steps
                ),
                self._profile_root,
            ),
            frozenset(model.prims),
            model.guard_keys,
        )

    # -- lookups
    def structure_definition(self, url: str) -> dict[str, Any] | None:
        sd = self.definitions.structure_definitions.get(url)
        if sd is None:
            sd = self.definitions.structure_definitions.get(strip_version(url))
        if sd is None:
            sd = core_profiles().get(strip_version(url))
        return sd

    def _valueset(self, url: str) -> dict[str, Any] | None:
        return self.definitions.valuesets.get(url)

    def _codesystem(self, url: str) -> CodeSystemInfo | None:
        if url not in self._cs_cache:
            cs = self.definitions.codesystems.get(url)
            self._cs_cache[url] = (
                CodeSystemInfo.from_resource(cs) if cs is not None else core_codesystem(url)
            )
        return self._cs_cache[url]

    def expansion(self, url: str) -> Expansion | None:
        url = strip_version(url)
        if url not in self._bindings:
            self._bindings[url] = self._expander.expand(url)
        return self._bindings[url]

    def is_core_type(self, url: str) -> bool:
        return self._compiler.is_core_type(url)

    def _profile_root(self, url: str) -> PElem | None:
        """The tree of a usable profile (slice discriminators read what it defines)."""
        try:
            prof = self.compiled(url)
        except ProfileError:
            return None
        return None if prof is None else prof.root

    def compiled(self, url: str) -> CompiledProfile | None:
        """The compiled profile; None if unknown. Raises ProfileError if it is broken."""
        got = self._compiled.get(url)
        if got is None:
            sd = self.structure_definition(url)
            if sd is None:
                return None
            try:
                got = self._compiler.compile(url, sd)
            except ProfileError as exc:
                got = exc
            self._compiled[url] = got
        if isinstance(got, ProfileError):
            raise got
        return got

    # ---------------------------------------------------------------- validation

    def validate(
        self,
        resource: Any,
        profiles: Sequence[str],
        claimed: Sequence[str],
        extensions_checked: bool = False,
    ) -> list[FhirIssue]:
        """Issues of a resource against profiles; ``extensions_checked`` says the caller
        checks every extension in it against its definition (see check_extensions)."""
        out: list[FhirIssue] = []
        if not isinstance(resource, dict):
            return out
        rtype = str(resource.get("resourceType"))
        if len(profiles) == 1 and not claimed:  # the usual case: the standard's profile
            asked: list[tuple[str, bool]] = [(profiles[0], True)]
        else:
            asked = [(p, True) for p in profiles] + [(p, False) for p in claimed]
        done: set[str] = set()
        for url, explicit in asked:
            if url in done:
                continue
            done.add(url)
            use = self._use(url, extensions_checked)
            if use is None:
                continue  # a core type: base R4 says it all
            if isinstance(use, ProfileError):
                message = f"Profile cannot be used: {use}"
                out.append(FhirIssue("error", "profile-error", rtype, message, url))
            elif isinstance(use, str):
                severity = "error" if explicit else "warning"
                message = "Profile is not known to the validator"
                out.append(FhirIssue(severity, "unknown-profile", rtype, message, url))
            elif use[0] != rtype:
                message = f"Profile is for {use[0]}, not {rtype}"
                out.append(FhirIssue("error", "profile-type", rtype, message, url))
            else:
                found = use[1].rule(resource, None, None, resource)
                if found is not None:
                    out.extend(issues_only(moved(rtype, found)))
        return out

    def _use(self, url: str, xc: bool) -> _Use:
        """How a profile applies to a resource (cached): not at all (a core type), not
        known, broken, or (its type, its compiled rule)."""
        key = (url, xc)
        if key in self._uses:
            return self._uses[key]
        use: _Use
        if self.is_core_type(strip_version(url)):
            use = None
        else:
            try:
                prof = self.compiled(url)
            except ProfileError as exc:
                prof, use = None, exc
            else:
                use = "unknown" if prof is None else (prof.type, self.checks.root(url, xc))
        self._uses[key] = use
        return use

    def conforms(self, value: Any, url: str, resource: Any) -> bool | None:
        """Whether a value conforms to a profile (None if the profile is unknown); the
        value of a resource profile must also conform to base R4."""
        try:
            prof = self.compiled(url)
        except ProfileError:
            return None
        if prof is None:
            return None
        if isinstance(value, dict) and prof.kind == "resource":
            if value.get("resourceType") != prof.type:
                return False
            if any(i.severity == "error" for i in self.base_check(value)):
                return False
        found = self.checks.root(url, False).rule(value, None, None, resource)
        return found is None or not any(
            isinstance(i, FhirIssue) and i.severity == "error" for i in found
        )

    def check_extensions(
        self, found: Sequence[ExtensionUse], policy: ExtensionPolicy, root: Any = None
    ) -> list[FhirIssue]:
        """Check extensions met in a resource (``root``, the top resource) against their
        definitions: unknown ones by ``policy``, known ones for where they are used
        (:mod:`~conformance.fhir.extensions`) and for their content."""
        out: list[FhirIssue] = []
        for path, items, res in found:
            modifier = path.endswith("modifierExtension")
            place: Place | None = None
            located = False  # the place is found on first need
            for i, ext in enumerate(items):
                if not isinstance(ext, dict):
                    continue
                url = ext.get("url")
                if not isinstance(url, str) or ":" not in url:
                    continue  # relative urls name the parts of a complex extension
                p = f"{path}[{i}]"
                try:
                    prof = self.compiled(url)
                except ProfileError as exc:
                    message = f"Extension definition cannot be used: {exc}"
                    out.append(FhirIssue("warning", "profile-error", p, message, url))
                    continue
                if prof is None:
                    out.append(policy.unknown(url, modifier, p))
                    continue
                ctx = self._context(url)
                if ctx is not None:
                    if not located and not ctx.anywhere:
                        place = locate(self.model, root if root is not None else res, path)
                        located = True
                    out.extend(context_issues(ctx, url, place, modifier, p, res, root))
                got = self.checks.root(url, False).rule(ext, None, None, res)
                if got is not None:
                    out.extend(issues_only(moved(p, got)))
        return out

    def _context(self, url: str) -> Context | None:
        """Where an extension may be used (cached per URL)."""
        if url not in self._contexts:
            sd = self.structure_definition(url)
            self._contexts[url] = Context.of(sd) if sd is not None else None
        return self._contexts[url]

    def must_support_paths(self, url: str, inherited: bool = True) -> list[str]:
        prof = self.compiled(url)
        if prof is None:
            return []
        return list(prof.must_support if inherited else prof.own_must_support)

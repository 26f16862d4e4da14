"""What the plugins of one run register: readers, check types, reporters, finding codes.

Each kind is gathered from its hook once per run (on first use), through pluggy's caller,
and a name registered twice is an error that names both plugins.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from conformance.codes import (
    Catalogue,
    DuplicateCode,
    FindingCode,
    UnregisteredCode,
    strict,
    unregistered_codes,
)
from conformance.errors import PluginError
from conformance.plugin.failures import PluginFailure
from conformance.plugin.terminology import TerminologyServices

if TYPE_CHECKING:
    from conformance.checks.base import CheckFactory
    from conformance.plugin.manager import Plugins
    from conformance.readers.base import Reader
    from conformance.reporters.base import Reporter
    from conformance.standards.model import Standard

T = TypeVar("T")


class Registry:
    """The readers, check types, reporters and finding codes of one run, by name."""

    def __init__(self, plugins: Plugins) -> None:
        self.plugins = plugins
        self._terminology: dict[int, tuple[Standard, TerminologyServices]] = {}

    @functools.cached_property
    def readers(self) -> Mapping[str, type[Reader]]:
        """Reader classes by name, in the order the hook returned them."""
        return self._unique("conformance_readers", "reader", self._named("conformance_readers"))

    @functools.cached_property
    def check_types(self) -> Mapping[str, CheckFactory]:
        """Check factories by check-type name (what ``standard.yaml`` refers to)."""
        pairs = [
            (name, factory)
            for mapping in self._call("conformance_check_types")
            for name, factory in mapping.items()
        ]
        return self._unique("conformance_check_types", "check type", pairs)

    @functools.cached_property
    def reporters(self) -> Mapping[str, type[Reporter]]:
        """Reporter classes by ``--format`` name."""
        return self._unique("conformance_reporters", "format", self._named("conformance_reporters"))

    @functools.cached_property
    def standard_paths(self) -> tuple[Path, ...]:
        return tuple(Path(p) for paths in self._call("conformance_standard_paths") for p in paths)

    @functools.cached_property
    def finding_codes(self) -> Catalogue:
        """Every finding code the run's plugins register, with who registered it.

        Gathered plugin by plugin (:meth:`Plugins.call_each`), so that each code has an owner.
        """
        catalogue = Catalogue()
        for owner, codes in self.plugins.call_each("conformance_finding_codes"):
            for entry in codes:
                if not isinstance(entry, FindingCode):
                    raise PluginError(
                        f"{owner}: conformance_finding_codes must return FindingCode objects, "
                        f"not {type(entry).__name__}"
                    )
                try:
                    catalogue.add(entry, owner)
                except DuplicateCode as exc:
                    raise PluginError(str(exc)) from None
        problems = catalogue.problems()
        if problems:
            raise PluginError("; ".join(problems))
        return catalogue

    def audit_codes(self, emitted: Mapping[str, Iterable[str]], standard: Standard) -> None:
        """Report codes a run emitted (by requirement) that no plugin registered.

        Each becomes a plugin failure of the plugin that registered the requirement's
        check type; in strict mode (:data:`conformance.codes.STRICT_ENV`, set by the test
        suite) the run ends with :class:`UnregisteredCode` instead.
        """
        if not any(emitted.values()):
            return  # nothing emitted: no need to gather the catalogue
        unknown = unregistered_codes(emitted, self.finding_codes)
        if not unknown:
            return
        if strict():
            listed = ", ".join(f"'{code}' ({req})" for req, code in unknown)
            raise UnregisteredCode(f"unregistered finding codes emitted: {listed}")
        check_types = {req.id: req.check.type for req in standard.requirements}
        for requirement, code in unknown:
            check_type = check_types.get(requirement)
            owners = self.owners("conformance_check_types", check_type) if check_type else []
            self.plugins.failures.append(
                PluginFailure(
                    owners[0] if owners else "conformance",
                    "conformance_finding_codes",
                    f"finding code '{code}' (requirement {requirement}) is not registered",
                )
            )

    def terminology(self, standard: Standard) -> TerminologyServices:
        """The terminology services for ``standard`` (``conformance_terminology``), once."""
        known = self._terminology.get(id(standard))
        if known is not None:
            return known[1]
        failures = self.plugins.failures
        before = len(failures)
        found = self._call("conformance_terminology", standard=standard)
        failed = [f for f in failures[before:] if f.hook == "conformance_terminology"]
        services = TerminologyServices(
            [s for s in found if s is not None],
            [
                f"the terminology plugin {f.plugin} failed and was left out ({f.error})"
                for f in failed
            ],
        )
        self._terminology[id(standard)] = (standard, services)
        return services

    def owners(self, hook: str, name: str) -> list[str]:
        """The plugins whose own answer to ``hook`` registers ``name`` (for error messages)."""
        found = []
        for plugin, result in self.plugins.call_each(hook):
            names = result if isinstance(result, Mapping) else [_name(item) for item in result]
            if name in names:
                found.append(plugin)
        return found

    def _call(self, hook: str, **kwargs: Any) -> list[Any]:
        results: list[Any] = self.plugins.call(hook, **kwargs)
        return results

    def _named(self, hook: str) -> list[tuple[str, Any]]:
        """``(name, class)`` for each class the hook's results list."""
        return [(_name(cls), cls) for classes in self._call(hook) for cls in classes]

    def _unique(self, hook: str, kind: str, pairs: Iterable[tuple[str, T]]) -> dict[str, T]:
        found: dict[str, T] = {}
        for name, value in pairs:
            if name in found:
                owners = self.owners(hook, name)
                if len(owners) >= 2:
                    by = f"by both {owners[0]} and {owners[1]}"
                elif owners:
                    by = f"twice by {owners[0]}"
                else:
                    by = "twice"
                raise PluginError(f"{kind} '{name}' is registered {by}")
            found[name] = value
        return found


def _name(cls: Any) -> str:
    return str(getattr(cls, "name", getattr(cls, "__name__", repr(cls))))

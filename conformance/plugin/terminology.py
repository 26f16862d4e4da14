"""The run's terminology services: the ``conformance_terminology`` hook, behind one object.

Built once per run by the plugin registry (:meth:`Registry.terminology`) and reached by
check factories with :func:`terminology_services`; checks ask it, never the plugin
manager. A service that raises while answering is left out for the rest of the run and
reported (as a warning finding, through :meth:`TerminologyServices.warnings`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from conformance.plugin.hookspecs import CodeVerdict, TerminologyService

if TYPE_CHECKING:
    from conformance.checks.base import CompileEnv

SERVICES_KEY = "terminology-services"
"""The :class:`conformance.checks.base.CompileEnv` service holding the run's services."""


class TerminologyServices:
    """Value-set membership from every terminology service of the run, asked in order.

    The first service that answers ``member`` True or False decides; ``None`` from all of
    them means nobody can tell.
    """

    def __init__(
        self, services: Iterable[TerminologyService], failures: Iterable[str] = ()
    ) -> None:
        self.services = list(services)
        self.failures = list(failures)
        """Why services were left out, in words (for the scorecard's warnings)."""

    def validate_code(self, value_set: str, system: str, code: str) -> CodeVerdict:
        for service in list(self.services):
            try:
                verdict = service.validate_code(value_set, system, code)
            except Exception as exc:  # a plugin's bug must not end the run
                self._leave_out(service, exc)
                continue
            if verdict.member is not None:
                return verdict
        return CodeVerdict(None)

    def expand(self, value_set: str) -> Mapping[str, frozenset[str]] | None:
        """The first expansion a service can give, or None."""
        for service in list(self.services):
            try:
                expansion = service.expand(value_set)
            except Exception as exc:
                self._leave_out(service, exc)
                continue
            if expansion is not None:
                return expansion
        return None

    def warnings(self) -> Iterator[str]:
        """What the services report (e.g. an unreachable server), then what failed."""
        for service in list(self.services):
            try:
                found = list(service.warnings())
            except Exception as exc:
                self._leave_out(service, exc)
                continue
            yield from found
        yield from self.failures

    def _leave_out(self, service: TerminologyService, exc: Exception) -> None:
        self.services.remove(service)
        name = getattr(service, "name", type(service).__name__)
        self.failures.append(
            f"the terminology service {name} failed and was left out ({type(exc).__name__}: {exc})"
        )


def terminology_services(env: CompileEnv) -> TerminologyServices:
    """The run's terminology services, for a check factory.

    The engine shares the run's plugins with the factories (``env.services["plugins"]``);
    a check compiled outside a run has no terminology service (every answer is None).
    """

    def build() -> TerminologyServices:
        # the run's Plugins (not imported here: the manager's registry imports this module)
        registry = getattr(env.services.get("plugins"), "registry", None)
        if registry is not None:
            found: TerminologyServices = registry.terminology(env.standard)
            return found
        return TerminologyServices(())

    services: TerminologyServices = env.service(SERVICES_KEY, build)
    return services

"""Every hook of conformance, typed and documented in one place.

The built-in readers, checks and reporters register through these same hooks. Each hook
is documented in ``docs/plugins.md`` with an example; a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from conformance.plugin import hookspec

if TYPE_CHECKING:
    from conformance.checks.base import CheckFactory
    from conformance.codes import FindingCode
    from conformance.readers.base import Reader
    from conformance.reporters.base import Reporter
    from conformance.standards.model import Standard


@dataclass(frozen=True, slots=True)
class CodeVerdict:
    """A terminology service's answer to "is this code in that value set?"."""

    member: bool | None
    """True or False when the service knows; None when it cannot tell (ask the next one)."""
    source: str = ""
    """Where the answer came from, e.g. ``server``, ``cache``, ``offline``."""
    message: str = ""
    """The service's reason when ``member`` is False (never a value from the feed)."""


class TerminologyService(Protocol):
    """What ``conformance_terminology`` returns: a source of value-set membership.

    Services are consulted in registration order (last registered first, as for every
    hook); the first that answers ``member`` True or False decides.
    """

    name: str

    def validate_code(self, value_set: str, system: str, code: str) -> CodeVerdict:
        """Whether ``system|code`` is in the value set with canonical URL ``value_set``."""
        ...

    def expand(self, value_set: str) -> Mapping[str, frozenset[str]] | None:
        """The value set's codes by system, or None when it cannot be expanded."""
        ...

    def warnings(self) -> Sequence[str]:
        """What went wrong so far, for the scorecard (e.g. the server was unreachable)."""
        ...


@hookspec
def conformance_readers() -> Sequence[type[Reader]]:
    """Return reader classes for input formats.

    Called once per run. Each class is instantiated with the run's
    :class:`conformance.limits.Limits`; for each input the reader whose ``claims()``
    returns the highest score reads it.
    """
    raise NotImplementedError


@hookspec
def conformance_check_types() -> Mapping[str, CheckFactory]:
    """Return check types by name, as a standard's requirements refer to them.

    Called once per run when the standard is compiled. A requirement's
    ``check: {type: NAME, ...params}`` is compiled by the factory registered as NAME. Two
    plugins registering the same name is an error.
    """
    raise NotImplementedError


@hookspec
def conformance_reporters() -> Sequence[type[Reporter]]:
    """Return reporter classes; each renders a scorecard in one ``--format``, by ``name``."""
    raise NotImplementedError


@hookspec
def conformance_finding_codes() -> Sequence[FindingCode]:
    """Return the finding codes the plugin's checks and readers emit.

    Called once per run, when the run's catalogue of codes is first needed (at the end of
    a run, and by ``conformance codes``). Every code a finding carries must be registered
    by exactly one plugin: a run that emits an unregistered code reports it under
    ``plugins.failures``; two plugins registering the same code is an error. A code is
    never withdrawn: a renamed code stays registered with ``deprecated=True`` and
    ``replaced_by`` naming its successor, so that baselines and old scorecards still
    resolve.
    """
    raise NotImplementedError


@hookspec
def conformance_standard_paths() -> Sequence[Path]:
    """Return extra folders holding standards (``<id>/<version>/standard.yaml``)."""
    raise NotImplementedError


@hookspec
def conformance_terminology(standard: Standard) -> TerminologyService | None:
    """Return a terminology service that code-membership checks may consult, or None.

    Called once per run when a check that needs value-set membership is compiled (for
    example ``tx-code-membership`` of the ``conformance-tx`` plugin), with the standard
    being applied. A service should answer from local data when it can and say
    ``member=None`` when it cannot tell; it must not raise for an unreachable server but
    fall back and report the fact through :meth:`TerminologyService.warnings`.
    """
    raise NotImplementedError

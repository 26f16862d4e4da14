"""Every hook of conformance, typed and documented in one place.

The built-in readers, checks and reporters register through these same hooks. Each hook
is documented in ``docs/plugins.md`` with an example; a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from conformance.plugin import hookspec

if TYPE_CHECKING:
    from conformance.checks.base import CheckFactory
    from conformance.readers.base import Reader
    from conformance.reporters.base import Reporter


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
def conformance_standard_paths() -> Sequence[Path]:
    """Return extra folders holding standards (``<id>/<version>/standard.yaml``)."""
    raise NotImplementedError

"""Reporters render the canonical JSON scorecard in one output format."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from conformance.scorecard.model import ScorecardData


@dataclass(frozen=True, slots=True)
class RenderOptions:
    show_values: bool = False
    """Local terminal only: show the offending values instead of masking them."""
    top_findings: int = 20
    color: bool = False
    width: int = 100


class Reporter(Protocol):
    """Renders a scorecard. Register classes with the ``conformance_reporters`` hook."""

    name: ClassVar[str]
    """The ``--format`` name."""
    description: ClassVar[str]
    extension: ClassVar[str]
    """Suggested file extension, e.g. ``.md``."""

    def render(self, scorecard: ScorecardData, options: RenderOptions) -> str:
        """Return the rendering of the canonical scorecard ``scorecard``."""
        ...

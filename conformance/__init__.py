"""conformance: validate ICS data feeds against a minimum data-sharing standard.

The public API (imported lazily so that ``import conformance`` stays cheap)::

    import conformance
    card = conformance.validate(["sample_feeds/qwo-conformant"], standard="mdss@1.0.0")
    card.verdict, card.score, card.data  # data: the canonical JSON scorecard
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.__about__ import __version__

if TYPE_CHECKING:
    from conformance.engine.run import validate
    from conformance.scorecard.model import Scorecard, Verdict
    from conformance.standards.model import Standard

__all__ = ["Scorecard", "Standard", "Verdict", "__version__", "load_standard", "validate"]


def load_standard(ref: str) -> Standard:
    """Load a standard by reference (``mdss``, ``mdss@1``, ``mdss@1.0.0``) or folder."""
    from conformance.standards.registry import StandardRegistry

    return StandardRegistry.default().resolve(ref)


def __getattr__(name: str) -> Any:
    if name == "validate":
        from conformance.engine.run import validate

        return validate
    if name in ("Scorecard", "Verdict"):
        from conformance.scorecard import model

        return getattr(model, name)
    if name == "Standard":
        from conformance.standards.model import Standard

        return Standard
    raise AttributeError(f"module 'conformance' has no attribute {name!r}")

"""The scorecard an interrupted or failed ``validate -o FILE`` still writes.

If the engine got as far as a scorecard, that one is used; otherwise a minimal scorecard
that says nothing was measured. Either way it is marked ``Incomplete`` (``complete``:
false) so that no reader can take it for a result.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from conformance.__about__ import __version__
from conformance.scorecard.model import SCORECARD_SCHEMA_VERSION, Verdict
from conformance.scorecard.score import score_of


def incomplete_scorecard(partial: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    """``partial`` (the run's scorecard, if any) marked Incomplete, else a minimal one."""
    if partial is not None:
        card = copy.deepcopy(dict(partial))
    else:
        card = {
            "scorecard_version": SCORECARD_SCHEMA_VERSION,
            "tool": {"name": "conformance", "version": __version__},
            "standard": {"id": "", "version": ""},
            "feed": {},
            "score": 0.0,
            "counts": {"records_read": 0, "records_validated": 0, "records_unparseable": 0},
            "inputs": [],
            "domains": [],
            "requirements": [],
            "findings": [],
            "run": {
                "started": datetime.now(UTC)
                .replace(microsecond=0)
                .isoformat()
                .replace("+00:00", "Z"),
                "duration_seconds": 0,
            },
        }
    card["verdict"] = str(Verdict.INCOMPLETE)
    card["complete"] = False
    card["score"] = score_of(card)  # an Incomplete run never scores as one that finished
    card["run"] = {**card.get("run", {}), "stopped": what}
    return card


def render_incomplete(card: dict[str, Any], format_name: str) -> str:
    """The card in the format asked for; JSON if that reporter cannot render it."""
    import orjson

    text = orjson.dumps(card, option=orjson.OPT_INDENT_2).decode() + "\n"
    if format_name == "json":
        return text
    try:
        from conformance.plugin.manager import build_plugins
        from conformance.reporters.base import RenderOptions
        from conformance.reporters.registry import reporter_for
        from conformance.scorecard.model import scorecard_data

        reporter = reporter_for(build_plugins(), format_name)
        rendered: str = reporter.render(scorecard_data(card), RenderOptions())
        return rendered
    except Exception:
        return text

"""Shared machinery for the self-contained HTML pages (the scorecard and the board pack).

Pages are Jinja2 templates shipped in ``conformance/reporters/templates/`` and rendered
with autoescape on (every value from a scorecard is escaped by the template engine; no
template marks feed data safe) and ``StrictUndefined`` (a misspelt name fails loudly
instead of printing nothing). The shared markup (badges, bars, gauge, sparkline) is in
``macros.html.j2``. The CSS files and the scorecard's filter script are package resources
inserted as trusted text; the Content-Security-Policy allows that one script by its hash
and forbids any network fetch. Colours meet WCAG AA (4.5:1) for their text; a status is
always shown by a symbol and a word as well as a colour.

Jinja2 is imported on first use, so runs that write no HTML do not pay for it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any, Final

from conformance.reporters.common import (
    LEVEL_RANK,
    SEVERITY_RANK,
    STATUS_LABEL,
    STATUS_SYMBOL,
    percent,
    threshold_text,
)

if TYPE_CHECKING:
    import jinja2

# Status colours: white text on these backgrounds is 6:1 or better; as text on white too.
STATUS_COLOUR: Final = {
    "pass": "#00632b",
    "partial": "#8a4500",
    "fail": "#b00020",
    "not-applicable": "#4c6272",
    "error": "#6b2c91",
}
VERDICT_STATUS: Final = {
    "Conformant": "pass",
    "Conformant with warnings": "partial",
    "Not conformant": "fail",
    "Incomplete": "error",
}
VERDICT_SYMBOL: Final = {
    "Conformant": "✓",
    "Conformant with warnings": "!",
    "Not conformant": "✗",
    "Incomplete": "…",
}
SEVERITY_STATUS: Final = {"error": "fail", "warning": "partial", "information": "not-applicable"}
SEVERITY_SYMBOL: Final = {"error": "✗", "warning": "!", "information": "i"}

TEMPLATES: Final = "templates"
CSP_BASE: Final = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@dataclass(frozen=True, slots=True)
class Link:
    href: str
    text: str


def static_text(name: str) -> str:
    """A CSS or script file shipped beside the templates."""
    return _static(name)


@functools.cache
def _static(name: str) -> str:
    return (
        resources.files("conformance.reporters")
        .joinpath(TEMPLATES, name)
        .read_text(encoding="utf-8")
    )


def script_hash(script: str) -> str:
    """The CSP source that allows exactly this inline script."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def csp(scripts: Sequence[str] = ()) -> str:
    if not scripts:
        return CSP_BASE
    return f"{CSP_BASE}; script-src {' '.join(script_hash(s) for s in scripts)}"


_ANCHOR_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def anchor(*parts: str) -> str:
    """A fragment id made of ``parts`` (``req-MDSS-ID-02``), safe in an id and a URL."""
    return "-".join(_ANCHOR_UNSAFE.sub("_", part) for part in parts)


@dataclass(frozen=True, slots=True)
class Sparkline:
    """Geometry of a small score chart: one dot per period, and its highest and lowest
    values written on the right at their heights (the chart's scale)."""

    width: int
    height: int
    left: float
    right: float
    low: float
    high: float
    low_y: float
    high_y: float
    low_label_y: float
    high_label_y: float
    points: list[tuple[float, float]]
    runs: list[list[tuple[float, float]]]
    """Consecutive periods joined by a line; a missing period leaves a gap."""


def sparkline(
    values: Sequence[float | None], width: int = 136, height: int = 36
) -> Sparkline | None:
    """Scaled to the data (at least a 5-point span) so small changes near 100 show."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    low, high = min(present), max(present)
    lo, hi = low, high
    if hi - lo < 5.0:
        mid = (hi + lo) / 2.0
        lo, hi = mid - 2.5, mid + 2.5
    if hi > 100.0:
        lo, hi = lo - (hi - 100.0), 100.0
    if lo < 0.0:
        lo, hi = 0.0, hi - lo
    left, right, top, bottom = 4.0, width - 38.0, 5.0, height - 5.0

    def y_of(v: float) -> float:
        return top + (bottom - top) * (1.0 - (v - lo) / (hi - lo))

    n = max(1, len(values) - 1)
    runs: list[list[tuple[float, float]]] = [[]]
    points = []
    for i, v in enumerate(values):
        if v is None:
            runs.append([])
            continue
        x = left + (right - left) * (i / n if len(values) > 1 else 0.5)
        points.append((x, y_of(v)))
        runs[-1].append((x, y_of(v)))
    high_y, low_y = y_of(high), y_of(low)
    # Labels (baseline 3.5 below the value's height) kept 10 apart and inside the chart.
    mid = (high_y + low_y) / 2.0
    high_label = min(high_y, mid - 5.0) + 3.5
    low_label = max(low_y, mid + 5.0) + 3.5
    shift = max(0.0, 9.0 - high_label) - max(0.0, low_label - height)
    return Sparkline(
        width=width,
        height=height,
        left=left,
        right=right,
        low=low,
        high=high,
        low_y=low_y,
        high_y=high_y,
        low_label_y=low_label + shift,
        high_label_y=high_label + shift,
        points=points,
        runs=[r for r in runs if len(r) > 1],
    )


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k that is at least ``value`` (for chart scales)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if step * power >= value - 1e-9:
            return step * power
    return 10.0 * power


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, float(value)))


@functools.cache
def environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("conformance.reporters", TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(
        one=lambda v: f"{float(v):.1f}",
        g=lambda v: f"{float(v):g}",
        thousands=lambda v: f"{int(v):,}",
        percent=percent,
        threshold=threshold_text,
    )
    env.globals.update(
        STATUS_COLOUR=STATUS_COLOUR,
        STATUS_LABEL=STATUS_LABEL,
        STATUS_SYMBOL=STATUS_SYMBOL,
        VERDICT_STATUS=VERDICT_STATUS,
        VERDICT_SYMBOL=VERDICT_SYMBOL,
        SEVERITY_STATUS=SEVERITY_STATUS,
        SEVERITY_SYMBOL=SEVERITY_SYMBOL,
        SEVERITIES=tuple(SEVERITY_RANK),
        LEVELS=tuple(LEVEL_RANK),
        PI=math.pi,
        clamp=_clamp,
        zip=zip,
    )
    return env


def render_page(
    template: str,
    *,
    title: str,
    css: Sequence[str],
    script: str | None = None,
    **context: Any,
) -> str:
    """Render a page template (which extends ``page.html.j2``) with its CSS and script."""
    from markupsafe import Markup

    code = static_text(script) if script else ""
    page = {
        "title": title,
        "csp": csp([code] if code else []),
        "css": Markup("".join(static_text(name) for name in css)),
        "script": Markup(code),
    }
    return environment().get_template(template).render(page=page, **context)

"""Building blocks for the self-contained HTML pages (the scorecard and the board pack).

No scripts, no external resources: a Content-Security-Policy forbids any network fetch.
Colours meet WCAG AA (4.5:1) for their text; a status is always shown by a symbol and a
word as well as a colour. Every string from a scorecard goes through :func:`esc`.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Final

from conformance.reporters.common import STATUS_LABEL, STATUS_SYMBOL

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

CSP: Final = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

BASE_CSS: Final = """
:root{--ink:#1d1d1b;--muted:#4c5560;--line:#c8ced4;--band:#003087;--paper:#ffffff;
--soft:#f2f4f6;--pass:#00632b;--partial:#8a4500;--fail:#b00020;--na:#4c6272;--err:#6b2c91}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--soft);color:var(--ink);
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
.page{max-width:1080px;margin:0 auto;padding:0 16px 32px}
header.band{background:var(--band);color:#fff;padding:20px 16px 16px}
header.band .inner{max-width:1080px;margin:0 auto}
header.band h1{margin:0 0 4px;font-size:1.6rem;line-height:1.25}
header.band p{margin:0;color:#fff}
section{background:var(--paper);border:1px solid var(--line);border-radius:6px;
padding:16px;margin:16px 0}
h2{font-size:1.25rem;margin:0 0 12px}
h3{font-size:1.05rem;margin:16px 0 8px}
p.lead{margin:0 0 12px;color:var(--muted)}
.muted{color:var(--muted)}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
.wrap{overflow-wrap:anywhere;word-break:break-word}
table{border-collapse:collapse;width:100%}
caption{text-align:left;font-weight:600;padding:0 0 8px}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line)}
thead th{background:var(--soft);font-weight:600;border-bottom:2px solid var(--muted)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;color:#fff;font-weight:600;
font-size:.85rem;white-space:nowrap;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.s-pass{background:var(--pass)}.s-partial{background:var(--partial)}
.s-fail{background:var(--fail)}.s-not-applicable{background:var(--na)}.s-error{background:var(--err)}
.t-pass{color:var(--pass)}.t-partial{color:var(--partial)}.t-fail{color:var(--fail)}
.t-not-applicable{color:var(--na)}.t-error{color:var(--err)}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%;position:relative}
svg{display:block}
.bar{width:100%;height:14px;min-width:60px}
footer{color:var(--muted);font-size:.875rem;margin:24px 0 0}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;
clip:rect(0,0,0,0);white-space:nowrap;border:0}
@media (max-width:640px){
 body{font-size:15px}
 header.band h1{font-size:1.3rem}
 section{padding:12px;margin:12px 0}
 .page{padding:0 8px 24px}
 table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}
 table.cards thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0,0,0,0)}
 table.cards tr{border:1px solid var(--line);border-radius:6px;margin:0 0 10px;padding:4px 0}
 table.cards td,table.cards th[scope=row]{border:0;padding:4px 10px;text-align:left}
 table.cards th[scope=row]{display:inline-block;font-size:1.05rem}
 table.cards td.num{text-align:left;white-space:normal}
 table.cards td.inl{display:inline-block;width:auto;vertical-align:middle}
 table.cards td[data-label]::before{content:attr(data-label) ": ";font-weight:600;
 color:var(--muted)}
}
@page{size:A4;margin:14mm 12mm}
@media print{
 body{background:#fff;font-size:9.5pt;line-height:1.35}
 th,td{padding:3px 6px}
 details.why{display:none}
 .page{max-width:none;padding:0}
 header.band{padding:0 0 8px;background:#fff;color:var(--ink);border-bottom:2px solid var(--ink)}
 header.band p{color:var(--ink)}
 section{border:0;padding:0;margin:12px 0;break-inside:auto}
 h2,h3{break-after:avoid}
 tr,.keep{break-inside:avoid}
 thead{display:table-header-group}
 .scroll{overflow:visible}
 details>summary{list-style:none}
 .noprint{display:none}
 a{color:inherit;text-decoration:none}
}
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def status_badge(status: str) -> str:
    label = STATUS_LABEL.get(status, status)
    symbol = STATUS_SYMBOL.get(status, "?")
    cls = status if status in STATUS_COLOUR else "error"
    return (
        f'<span class="badge s-{cls}"><span aria-hidden="true">{symbol}</span> {esc(label)}</span>'
    )


def verdict_badge(verdict: str, *, big: bool = False) -> str:
    status = VERDICT_STATUS.get(verdict, "error")
    style = ' style="font-size:1.15rem;padding:4px 14px"' if big else ""
    return (
        f'<span class="badge s-{status}"{style}><span aria-hidden="true">'
        f"{VERDICT_SYMBOL.get(verdict, '?')}</span> {esc(verdict)}</span>"
    )


def rate_bar(rate: float | None, threshold: float | None = None, status: str = "pass") -> str:
    """A horizontal bar for a 0..1 rate with an optional threshold tick (decorative)."""
    colour = STATUS_COLOUR.get(status, STATUS_COLOUR["not-applicable"])
    width = 0.0 if rate is None else max(0.0, min(1.0, rate)) * 100.0
    tick = ""
    if threshold is not None:
        x = max(0.5, min(99.5, threshold * 100.0))
        tick = f'<rect x="{x - 0.6:.2f}" y="0" width="1.2" height="14" fill="#1d1d1b"/>'
    return (
        '<svg class="bar" viewBox="0 0 100 14" preserveAspectRatio="none" aria-hidden="true" '
        'focusable="false"><rect x="0" y="3" width="100" height="8" fill="#dde2e6"/>'
        f'<rect x="0" y="3" width="{width:.2f}" height="8" fill="{colour}"/>{tick}</svg>'
    )


def gauge(score: float, status: str, label: str) -> str:
    """A ring showing a 0..100 score with the number in the middle."""
    colour = STATUS_COLOUR.get(status, STATUS_COLOUR["error"])
    radius = 50.0
    circumference = 2 * 3.141592653589793 * radius
    filled = max(0.0, min(100.0, score)) / 100.0 * circumference
    return (
        f'<svg viewBox="0 0 120 120" width="120" height="120" role="img" '
        f'aria-label="{esc(label)}"><circle cx="60" cy="60" r="{radius:.0f}" fill="none" '
        f'stroke="#dde2e6" stroke-width="12"/><circle cx="60" cy="60" r="{radius:.0f}" '
        f'fill="none" stroke="{colour}" stroke-width="12" stroke-linecap="butt" '
        f'stroke-dasharray="{filled:.2f} {circumference:.2f}" transform="rotate(-90 60 60)"/>'
        f'<text x="60" y="66" text-anchor="middle" font-size="24" font-weight="700" '
        f'fill="#1d1d1b">{score:.1f}</text><text x="60" y="84" text-anchor="middle" '
        f'font-size="11" fill="#4c5560">of 100</text></svg>'
    )


def sparkline(values: Sequence[float | None], label: str, width: int = 96, height: int = 24) -> str:
    """A small line chart of scores (0..100); gaps for missing periods."""
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if not points:
        return '<span class="muted">&ndash;</span>'
    n = max(1, len(values) - 1)
    pad = 3.0
    # Scale to the data (at least a 5-point span) so small changes near 100 are visible.
    lo, hi = min(v for _, v in points), max(v for _, v in points)
    if hi - lo < 5.0:
        mid = (hi + lo) / 2.0
        lo, hi = mid - 2.5, mid + 2.5
    if hi > 100.0:
        lo, hi = lo - (hi - 100.0), 100.0
    if lo < 0.0:
        lo, hi = 0.0, hi - lo

    def xy(i: int, v: float) -> tuple[float, float]:
        x = pad + (width - 2 * pad) * (i / n if len(values) > 1 else 0.5)
        y = pad + (height - 2 * pad) * (1.0 - (v - lo) / (hi - lo))
        return x, y

    coords = [xy(i, v) for i, v in points]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    last_x, last_y = coords[-1]
    line = (
        f'<polyline points="{path}" fill="none" stroke="#003087" stroke-width="1.6" '
        'stroke-linejoin="round" stroke-linecap="round"/>'
        if len(coords) > 1
        else ""
    )
    return (
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{esc(label)}"><line x1="{pad}" y1="{height - pad}" x2="{width - pad}" '
        f'y2="{height - pad}" stroke="#c8ced4" stroke-width="1"/>{line}'
        f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="2.4" fill="#003087"/></svg>'
    )


def page(title: str, header: str, body: Iterable[str], extra_css: str = "") -> str:
    """A complete HTML document: header band, then the sections in a centred column."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="color-scheme" content="light">\n'
        f"<title>{esc(title)}</title>\n<style>{BASE_CSS}{extra_css}</style>\n</head>\n<body>\n"
        f'<header class="band"><div class="inner">{header}</div></header>\n'
        '<main class="page">\n' + "\n".join(body) + "\n</main>\n</body>\n</html>\n"
    )

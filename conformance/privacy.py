"""What may leave the process: masking, neutralising and capping text from a feed.

Findings and reports never carry a patient identifier or free text from a feed by
default. Checks put the offending value in ``Finding.value`` with a ``value_kind``; the
value is rendered masked everywhere unless the user opts in to showing values in local
terminal output (:func:`mask`).

Everything else that reaches an output goes through **one function**, :func:`scrub`
(applied to every string of a scorecard by :func:`scrub_tree`, when it is built and when
a saved one is read back), which

- masks anything that looks like an NHS Number, in any separator style (``9434765919``,
  ``943 476 5919``, ``943.476.5919``, ``943-476-5919``, mixed) and wherever it stands,
  inside ids, file names and element names too (``943 *** ****``);
- makes control characters visible (``\\x1b``): no ANSI or OSC escape sequence, bidi
  override, lone surrogate (a file name that is not UTF-8) or raw newline from a feed
  reaches a terminal, a CSV cell or a Markdown table;
- caps the length of any one value (:data:`MAX_TEXT`; ``…[+N characters]``), so a 4 MB id
  is not copied into every finding.

The formats then escape for their own medium with :func:`csv_cell` (no formula
injection) and :func:`markdown_text` (no raw HTML, links or images from a feed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MAX_TEXT = 512
"""Most characters of any one value (id, message, file name) copied into an output."""

_SEP = r"[^0-9A-Za-z]{0,3}"
_NHS_LIKE = re.compile(rf"(?<!\d)(\d{{3}}){_SEP}(\d{{3}}){_SEP}(\d{{4}})(?!\d)")
"""Ten digits grouped 3-3-4 with any (or no) separators: an NHS Number however written."""

_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
)
"""Control characters (C0, DEL, C1), bidirectional and zero-width marks, lone surrogates."""


def mask_nhs_number(value: str) -> str:
    """``9434765919`` -> ``943 *** ****``; anything not 10 digits is masked whole."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) == 10 and len(value) <= 14:
        return f"{digits[:3]} *** ****"
    return "*** *** ****"


def mask(value: str, kind: str) -> str:
    """Mask ``value`` according to its kind.

    Kinds: ``nhs-number``; ``code`` and ``system`` (terminology and identifier systems,
    not patient data: shown as they are, truncated); anything else (names, dates,
    postcodes, free text, unknown) is replaced by a placeholder that says only its length.
    """
    if kind == "nhs-number":
        return mask_nhs_number(value)
    if kind in ("code", "system", "ods-code"):
        return scrub(value if len(value) <= 80 else value[:77] + "...")
    if kind == "postcode":
        return "<postcode>"
    return f"<{kind}: {len(value)} characters>"


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def scrub(text: str, *, masked: bool = True, limit: int = MAX_TEXT) -> str:
    """The one gate for text that leaves the process (see the module's docstring).

    ``masked=False`` only for the explicit, local ``--show-values``: control characters
    are still made visible and the length still capped.
    """
    if len(text) > limit:  # first: what is cut off never needs masking
        keep = max(0, limit - 32)  # room for the marker
        text = f"{text[:keep]}…[+{len(text) - keep} characters]"
    if masked:
        text = _NHS_LIKE.sub(_masked, text)
    if _UNSAFE.search(text) is not None:
        text = _UNSAFE.sub(_visible, text)
    return text


def _masked(match: re.Match[str]) -> str:
    return f"{match.group(1)} *** ****"


_MACHINE_KEYS = {"sha256": re.compile(r"[0-9a-f]{64}")}
"""Values the tool computes itself, left whole when they have their exact shape."""


def scrub_tree(value: Any) -> Any:
    """``value`` (a scorecard, or part of one) with :func:`scrub` applied to every string,
    dictionary keys included."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            shape = _MACHINE_KEYS.get(key) if isinstance(key, str) else None
            if shape is not None and isinstance(item, str) and shape.fullmatch(item):
                out[key] = item
            else:
                out[scrub(key) if isinstance(key, str) else key] = scrub_tree(item)
        return out
    if isinstance(value, list):
        return [scrub_tree(item) for item in value]
    return value


def unknown_name(name: str, known: Iterable[str] = ()) -> str:
    """An element name from a feed that the standard does not know, as outputs show it.

    It is described, never echoed (a JSON key or an XML tag can carry a patient's name
    or number): ``an element named with 9 characters``. When it differs from a known
    element only in case (``birthdate``), the known name is offered instead, which says
    nothing the standard does not.
    """
    lowered = name.lstrip("_").lower()
    for candidate in known:
        if candidate.lower() == lowered:
            return f"an element named with {len(name)} characters (did you mean '{candidate}'?)"
    return f"an element named with {len(name)} characters"


UNKNOWN_ELEMENT = "(unknown element)"
"""What an expression shows in place of an unknown element's name."""


_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cell(text: str) -> str:
    """A cell a spreadsheet will show as text: no leading formula character (OWASP)."""
    text = scrub(text)
    return "'" + text if text.startswith(_CSV_TRIGGERS) else text


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~&])")


def markdown_text(text: str) -> str:
    """Feed text inside Markdown: no raw HTML, no links or images, no table breaks."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", scrub(text))


def markdown_code(text: str) -> str:
    """Feed text inside a Markdown code span (`...`): nothing in it is rendered but a
    backtick, which would end the span, and a pipe, which would end a table cell."""
    return scrub(text).replace("`", "'").replace("|", "\\|")

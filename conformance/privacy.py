"""Masking of patient-identifying values.

Findings and reports never carry a patient identifier or free text from a feed by
default. Checks put the offending value in ``Finding.value`` with a ``value_kind``; the
value is rendered masked everywhere unless the user opts in to showing values in local
terminal output. As a second line of defence, :func:`scrub` removes anything that looks
like an NHS Number from any text that reaches a report.
"""

from __future__ import annotations

import re

_NHS_LIKE = re.compile(r"(?<!\d)(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?!\d)")


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
        return value if len(value) <= 80 else value[:77] + "..."
    if kind == "postcode":
        return "<postcode>"
    return f"<{kind}: {len(value)} characters>"


def scrub(text: str) -> str:
    """Mask every run of ten digits (optionally spaced 3-3-4) that could be an NHS Number."""
    if not any(ch.isdigit() for ch in text):
        return text
    return _NHS_LIKE.sub(lambda m: f"{m.group(1)} *** ****", text)

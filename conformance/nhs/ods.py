"""Organisation Data Service (ODS) codes: syntax per frame.

Syntax only: whether a code is issued needs the ODS register, which is not shipped.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from conformance.nhs.systems import (
    ODS_MISSPELT_SYSTEMS,
    ODS_ORGANIZATION_SYSTEM,
    ODS_SITE_SYSTEM,
)

__all__ = [
    "ODS_FRAMES",
    "ODS_MISSPELT_SYSTEMS",
    "ODS_ORGANIZATION_SYSTEM",
    "ODS_SITE_SYSTEM",
    "OdsFrame",
    "OdsProblem",
    "ods_code_problem",
]

OdsFrame = Literal["trust", "site", "gp-practice", "icb", "organisation"]
OdsProblem = Literal[
    "empty", "whitespace", "lowercase", "bad-characters", "bad-length", "bad-pattern"
]

# frame -> (allowed lengths, full pattern)
_FRAMES: Final[dict[str, tuple[frozenset[int], re.Pattern[str]]]] = {
    # NHS trusts: a letter then two letters/digits (RH8, R0A, TAF).
    "trust": (frozenset({3}), re.compile(r"[A-Z][A-Z0-9]{2}")),
    # Trust and independent-sector sites: an organisation code plus two characters.
    "site": (frozenset({5}), re.compile(r"[A-Z][A-Z0-9]{4}")),
    # GP practices: a letter then five digits (B86022).
    "gp-practice": (frozenset({6}), re.compile(r"[A-Z][0-9]{5}")),
    # Integrated care boards: Q then two letters/digits (QWO, QE1).
    "icb": (frozenset({3}), re.compile(r"Q[A-Z0-9]{2}")),
    # Any organisation: 3-6 letters/digits (includes pharmacies, F + 4, and old CCG 00L style).
    "organisation": (frozenset({3, 4, 5, 6}), re.compile(r"[A-Z0-9]{3,6}")),
}
ODS_FRAMES: Final = frozenset(_FRAMES)
_ALNUM_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def ods_code_problem(code: str, frame: OdsFrame | str) -> OdsProblem | None:
    """None when ``code`` has the shape of an ODS code of ``frame``, else a kebab-case reason.

    Raises ``ValueError`` for an unknown frame (a programming error, not a data error).
    """
    try:
        lengths, pattern = _FRAMES[frame]
    except KeyError:
        raise ValueError(f"unknown ODS frame {frame!r}") from None
    if not code:
        return "empty"
    if code != code.strip():
        return "whitespace"
    if not _ALNUM_UPPER.issuperset(code):
        if _ALNUM_UPPER.issuperset(code.upper()):
            return "lowercase"
        return "bad-characters"
    if len(code) not in lengths:
        return "bad-length"
    if pattern.fullmatch(code) is None:
        return "bad-pattern"
    return None

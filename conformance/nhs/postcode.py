"""UK postcodes: normalisation and syntax, with ZZ99 pseudo-postcodes."""

from __future__ import annotations

import re
from typing import Literal

PostcodeProblem = Literal["empty", "bad-format"]

_PATTERN = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}")
_SPECIAL = frozenset({"GIR 0AA"})  # the one historic postcode outside the pattern
_WS = re.compile(r"\s+")


def normalise_postcode(s: str) -> str | None:
    """Upper-case, remove whitespace, put one space before the inward code; None if invalid."""
    compact = _WS.sub("", s).upper()
    if len(compact) < 5 or len(compact) > 7:
        return None
    candidate = f"{compact[:-3]} {compact[-3:]}"
    if candidate in _SPECIAL or _PATTERN.fullmatch(candidate):
        return candidate
    return None


def postcode_problem(s: str) -> PostcodeProblem | None:
    """None when ``s`` normalises to a valid UK postcode (or a ZZ99 pseudo-postcode)."""
    if not s.strip():
        return "empty"
    return None if normalise_postcode(s) is not None else "bad-format"


def is_pseudo_postcode(s: str) -> bool:
    """True for ZZ99 pseudo-postcodes (no fixed abode, overseas, not known)."""
    norm = normalise_postcode(s)
    return norm is not None and norm.startswith("ZZ99 ")

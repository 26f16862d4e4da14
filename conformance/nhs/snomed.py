"""SNOMED CT identifiers (SCTIDs): Verhoeff check digit and partition identifier."""

from __future__ import annotations

from typing import Literal

SctidProblem = Literal[
    "not-digits", "bad-length", "leading-zero", "bad-check-digit", "bad-partition"
]
SctidKind = Literal["concept", "description", "relationship"]

# Verhoeff's dihedral-group multiplication table, position permutation and inverses.
_D: tuple[tuple[int, ...], ...] = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P: tuple[tuple[int, ...], ...] = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)
_ASCII_DIGITS = frozenset("0123456789")

# Partition identifier (the two digits before the check digit): 0x = short format
# (International release), 1x = long format (an extension namespace such as the UK's or dm+d).
SCTID_PARTITIONS: dict[str, SctidKind] = {
    "00": "concept",
    "01": "description",
    "02": "relationship",
    "10": "concept",
    "11": "description",
    "12": "relationship",
}


def _verhoeff_state(digits: str, offset: int) -> int:
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _D[c][_P[(i + offset) % 8][ord(ch) - 48]]
    return c


def verhoeff_ok(digits: str) -> bool:
    """True when ``digits`` (ASCII digits, check digit last) passes the Verhoeff check."""
    if not digits or not _ASCII_DIGITS.issuperset(digits):
        return False
    return _verhoeff_state(digits, 0) == 0


def verhoeff_check_digit(digits: str) -> str:
    """The Verhoeff check digit to append to ``digits``."""
    if not digits or not _ASCII_DIGITS.issuperset(digits):
        raise ValueError("expected ASCII digits")
    return str(_INV[_verhoeff_state(digits, 1)])


def sctid_partition(s: str) -> str | None:
    """The two-digit partition identifier of an SCTID-shaped string, or None."""
    if len(s) < 3 or not _ASCII_DIGITS.issuperset(s):
        return None
    return s[-3:-1]


def sctid_kind(s: str) -> SctidKind | None:
    """What the partition says the SCTID identifies, or None for an unknown partition."""
    part = sctid_partition(s)
    return SCTID_PARTITIONS.get(part) if part is not None else None


def sctid_problem(s: str, *, concept: bool = False) -> SctidProblem | None:
    """None when ``s`` is a syntactically valid SCTID, else a kebab-case reason.

    With ``concept=True`` only concept partitions (00, 10) count as valid, as for a code in
    a ``Coding`` whose system is SNOMED CT.
    """
    if not s or not _ASCII_DIGITS.issuperset(s):
        return "not-digits"
    if not 6 <= len(s) <= 18:
        return "bad-length"
    if s[0] == "0":
        return "leading-zero"
    if not verhoeff_ok(s):
        return "bad-check-digit"
    kind = SCTID_PARTITIONS.get(s[-3:-1])
    if kind is None or (concept and kind != "concept"):
        return "bad-partition"
    return None

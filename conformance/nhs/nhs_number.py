"""NHS Number: Modulus 11 check digit, sentinels, issuing ranges and masking.

All functions are pure and accept any string; none raises on bad input.
"""

from __future__ import annotations

from typing import Literal

NhsNumberRange = Literal[
    "england-wales-iom", "scotland-chi", "northern-ireland", "test", "never-issued", "unknown"
]

_STRIP = str.maketrans("", "", " -")

# Placeholder numbers that systems type in when the real one is unknown. The repeated-digit
# ones all pass Modulus 11, which is why a check-digit test alone does not catch them.
SENTINEL_NHS_NUMBERS: frozenset[str] = frozenset(
    {str(d) * 10 for d in range(10)} | {"0123456789", "1234567890", "9876543210", "0987654321"}
)

MASKED_NHS_NUMBER = "*** *** ****"


def _is_ten_digits(s: str) -> bool:
    return len(s) == 10 and s.isascii() and s.isdigit()


def _weighted_sum(b: bytes) -> int:
    # Unrolled Modulus 11 weights 10..2 over ASCII digit bytes (48 * 54 removes the '0' offset).
    return (
        10 * b[0]
        + 9 * b[1]
        + 8 * b[2]
        + 7 * b[3]
        + 6 * b[4]
        + 5 * b[5]
        + 4 * b[6]
        + 3 * b[7]
        + 2 * b[8]
        - 2592
    )


def nhs_number_check_digit(first_nine: str) -> int | None:
    """The check digit for nine leading digits, or None when no check digit exists (r = 10)."""
    if len(first_nine) != 9 or not (first_nine.isascii() and first_nine.isdigit()):
        raise ValueError("expected nine ASCII digits")
    r = 11 - _weighted_sum(first_nine.encode()) % 11
    if r == 11:
        return 0
    if r == 10:
        return None
    return r


def nhs_number_check_digit_ok(s: str) -> bool:
    """True when ``s`` is exactly ten ASCII digits whose last digit is the Modulus 11 check.

    No normalisation: spaced forms (``943 476 5919``) are False; call
    :func:`normalise_nhs_number` first when formatting is allowed.
    """
    if not _is_ten_digits(s):
        return False
    b = s.encode()
    r = 11 - _weighted_sum(b) % 11
    return (0 if r == 11 else r) == b[9] - 48


def normalise_nhs_number(s: str) -> str | None:
    """Strip spaces and hyphens; return the ten digits, or None when that is not the shape."""
    compact = s.strip().translate(_STRIP)
    return compact if _is_ten_digits(compact) else None


def is_sentinel_nhs_number(s: str) -> bool:
    """True for placeholder numbers (all one digit, 0123456789, 1234567890 and reversals)."""
    compact = normalise_nhs_number(s)
    return compact is not None and compact in SENTINEL_NHS_NUMBERS


def nhs_number_range(s: str) -> NhsNumberRange:
    """Which issuing range a (normalisable) number falls in; "unknown" for bad shapes.

    England, Wales and the Isle of Man: 400-499 million and 600-799 million; Scottish CHI:
    010-311 million; Northern Ireland: 320-399 million; 9xx: test/synthetic; 5xx: never issued.
    """
    compact = normalise_nhs_number(s)
    if compact is None:
        return "unknown"
    millions = int(compact[:3])
    first = compact[0]
    if first == "9":
        return "test"
    if first == "4" or first in "67":
        return "england-wales-iom"
    if first == "5":
        return "never-issued"
    if 10 <= millions <= 311:
        return "scotland-chi"
    if 320 <= millions <= 399:
        return "northern-ireland"
    return "unknown"


def mask_nhs_number(s: str) -> str:
    """Keep the first three digits only (``943 *** ****``); anything else is fully masked."""
    compact = normalise_nhs_number(s)
    if compact is None:
        return MASKED_NHS_NUMBER
    return f"{compact[:3]} *** ****"

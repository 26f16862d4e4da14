"""NHS Number, SCTID, ODS, postcode and UK Core constants."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.nhs import (
    SENTINEL_NHS_NUMBERS,
    is_pseudo_postcode,
    is_sentinel_nhs_number,
    mask_nhs_number,
    nhs_number_check_digit,
    nhs_number_check_digit_ok,
    nhs_number_range,
    normalise_nhs_number,
    normalise_postcode,
    ods_code_problem,
    postcode_problem,
    sctid_kind,
    sctid_partition,
    sctid_problem,
    verhoeff_check_digit,
    verhoeff_ok,
)
from conformance.nhs import snomed as snomed_mod

nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


# --- NHS Number -------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["9434765919", "9990000018", "4010232137", "9912003888"])
def test_valid_check_digits(value: str) -> None:
    assert nhs_number_check_digit_ok(value)


@pytest.mark.parametrize(
    "value",
    [
        "9434765910",  # wrong last digit
        "943476591",  # nine digits
        "94347659190",  # eleven
        "943 476 5919",  # spaced: not normalised by the check
        "943476591X",
        "",
        "\uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19",  # full-width digits
    ],
)
def test_invalid_check_digits(value: str) -> None:
    assert not nhs_number_check_digit_ok(value)


def test_remainder_ten_has_no_valid_check_digit() -> None:
    # 1000000010: weights give 10*1 + 2*1 = 12, 12 % 11 = 1, r = 10 -> no check digit.
    assert nhs_number_check_digit("100000001") is None
    assert not any(nhs_number_check_digit_ok(f"100000001{d}") for d in range(10))


def test_remainder_eleven_gives_zero() -> None:
    assert nhs_number_check_digit("000000000") == 0
    assert nhs_number_check_digit_ok("0000000000")


def test_check_digit_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        nhs_number_check_digit("12345678")


@given(nine_digits, st.integers(0, 8), st.integers(1, 9))
def test_any_single_digit_change_is_caught(prefix: str, pos: int, delta: int) -> None:
    check = nhs_number_check_digit(prefix)
    if check is None:
        return
    good = prefix + str(check)
    assert nhs_number_check_digit_ok(good)
    changed = good[:pos] + str((int(good[pos]) + delta) % 10) + good[pos + 1 :]
    assert not nhs_number_check_digit_ok(changed)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("943 476 5919", "9434765919"),
        ("943-476-5919", "9434765919"),
        (" 9434765919 ", "9434765919"),
        ("943 476 591", None),
        ("943.476.5919", None),
        ("", None),
    ],
)
def test_normalise(raw: str, expected: str | None) -> None:
    assert normalise_nhs_number(raw) == expected


def test_sentinels() -> None:
    for d in range(10):
        assert is_sentinel_nhs_number(str(d) * 10)
        # Repeated digits all pass Modulus 11: the sentinel test is needed on top.
        assert nhs_number_check_digit_ok(str(d) * 10)
    assert is_sentinel_nhs_number("012 345 6789")
    assert is_sentinel_nhs_number("1234567890")
    assert not is_sentinel_nhs_number("9434765919")
    assert not is_sentinel_nhs_number("99999")
    assert "9999999999" in SENTINEL_NHS_NUMBERS


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("4010232137", "england-wales-iom"),
        ("6000000000", "england-wales-iom"),
        ("7999999999", "england-wales-iom"),
        ("0101001234", "scotland-chi"),
        ("3112991234", "scotland-chi"),
        ("3120000000", "unknown"),
        ("3200000000", "northern-ireland"),
        ("3999999999", "northern-ireland"),
        ("9990000018", "test"),
        ("9434765919", "test"),
        ("5000000000", "never-issued"),
        ("8000000000", "unknown"),
        ("0001234567", "unknown"),
        ("12345", "unknown"),
    ],
)
def test_ranges(value: str, expected: str) -> None:
    assert nhs_number_range(value) == expected


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("9434765919", "943 *** ****"),
        ("943 476 5919", "943 *** ****"),
        ("94347", "*** *** ****"),
        ("not a number", "*** *** ****"),
    ],
)
def test_mask(raw: str, masked: str) -> None:
    assert mask_nhs_number(raw) == masked


@given(st.text(alphabet=string.digits, min_size=10, max_size=10))
def test_mask_never_reveals_more_than_three_digits(value: str) -> None:
    masked = mask_nhs_number(value)
    assert sum(c.isdigit() for c in masked) == 3


# --- SNOMED CT --------------------------------------------------------------------------

REAL_CONCEPTS = [
    "44054006",  # diabetes mellitus type 2
    "38341003",  # hypertensive disorder
    "195967001",  # asthma
    "75367002",  # blood pressure
    "1091811000000102",  # UK extension concept (partition 10)
    "39732311000001104",  # dm+d VMP (partition 10)
]


def test_verhoeff_tables_are_the_dihedral_group() -> None:
    def d5(j: int, k: int) -> int:
        if j < 5 and k < 5:
            return (j + k) % 5
        if j < 5:
            return (j + k - 5) % 5 + 5
        if k < 5:
            return (j - 5 - k) % 5 + 5
        return (j - k) % 5

    assert tuple(tuple(d5(j, k) for k in range(10)) for j in range(10)) == snomed_mod._D
    p1 = snomed_mod._P[1]
    for i in range(1, 8):
        assert snomed_mod._P[i] == tuple(p1[x] for x in snomed_mod._P[i - 1])


def test_verhoeff_known_vectors() -> None:
    assert verhoeff_check_digit("236") == "3"
    assert verhoeff_check_digit("12345") == "1"
    assert verhoeff_check_digit("142857") == "0"
    assert verhoeff_ok("2363")
    assert not verhoeff_ok("2364")
    assert not verhoeff_ok("")
    assert not verhoeff_ok("12a")
    with pytest.raises(ValueError):
        verhoeff_check_digit("")


@given(st.text(alphabet="0123456789", min_size=1, max_size=17), st.data())
def test_verhoeff_catches_single_errors_and_adjacent_swaps(body: str, data: st.DataObject) -> None:
    good = body + verhoeff_check_digit(body)
    assert verhoeff_ok(good)
    pos = data.draw(st.integers(0, len(good) - 1))
    delta = data.draw(st.integers(1, 9))
    changed = good[:pos] + str((int(good[pos]) + delta) % 10) + good[pos + 1 :]
    assert not verhoeff_ok(changed)
    if pos + 1 < len(good) and good[pos] != good[pos + 1]:
        swapped = good[:pos] + good[pos + 1] + good[pos] + good[pos + 2 :]
        assert not verhoeff_ok(swapped)


@pytest.mark.parametrize("code", REAL_CONCEPTS)
def test_real_concepts_are_valid(code: str) -> None:
    assert sctid_problem(code) is None
    assert sctid_problem(code, concept=True) is None
    assert sctid_kind(code) == "concept"


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("", "not-digits"),
        ("4405400X", "not-digits"),
        ("-4405400", "not-digits"),
        ("12345", "bad-length"),
        ("1" * 19, "bad-length"),
        ("044054006", "leading-zero"),
        ("44054007", "bad-check-digit"),
        ("44054060", "bad-check-digit"),  # last two digits swapped
        ("1000309", "bad-partition"),  # partition 30, valid check digit
    ],
)
def test_sctid_problems(code: str, problem: str) -> None:
    if problem == "bad-partition":
        assert verhoeff_ok(code)
    assert sctid_problem(code) == problem


def test_description_id_is_not_a_concept() -> None:
    body = "12345601"  # partition 01: description
    code = body + verhoeff_check_digit(body)
    assert sctid_problem(code) is None
    assert sctid_kind(code) == "description"
    assert sctid_problem(code, concept=True) == "bad-partition"


def test_partition() -> None:
    assert sctid_partition("44054006") == "00"
    assert sctid_partition("1091811000000102") == "10"
    assert sctid_partition("12") is None
    assert sctid_partition("abc") is None
    assert sctid_kind("1000309") is None


# --- ODS --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "frame"),
    [
        ("RH8", "trust"),
        ("R0A", "trust"),
        ("RH802", "site"),
        ("NV701", "site"),
        ("B86022", "gp-practice"),
        ("QWO", "icb"),
        ("QE1", "icb"),
        ("FA123", "organisation"),
        ("RH8", "organisation"),
        ("00L", "organisation"),
        ("B86022", "organisation"),
    ],
)
def test_valid_ods(code: str, frame: str) -> None:
    assert ods_code_problem(code, frame) is None


@pytest.mark.parametrize(
    ("code", "frame", "problem"),
    [
        ("", "trust", "empty"),
        (" RH8", "trust", "whitespace"),
        ("rh8", "trust", "lowercase"),
        ("RH-8", "trust", "bad-characters"),
        ("RH8X", "trust", "bad-length"),
        ("1H8", "trust", "bad-pattern"),
        ("RH80", "site", "bad-length"),
        ("1H802", "site", "bad-pattern"),
        ("B8602", "gp-practice", "bad-length"),
        ("BB6022", "gp-practice", "bad-pattern"),
        ("RWO", "icb", "bad-pattern"),
        ("QWOX", "icb", "bad-length"),
        ("AB", "organisation", "bad-length"),
        ("ABCDEFG", "organisation", "bad-length"),
    ],
)
def test_invalid_ods(code: str, frame: str, problem: str) -> None:
    assert ods_code_problem(code, frame) == problem


def test_unknown_frame() -> None:
    with pytest.raises(ValueError):
        ods_code_problem("RH8", "hospital")


# --- Postcodes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("LS17 7DF", "LS17 7DF"),
        ("ls177df", "LS17 7DF"),
        ("  sw1a   1aa ", "SW1A 1AA"),
        ("M1 1AE", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("CR2 6XH", "CR2 6XH"),
        ("ZZ99 3VZ", "ZZ99 3VZ"),
        ("GIR 0AA", "GIR 0AA"),
        ("LS17", None),
        ("LS17 7D", None),
        ("L1 8JQQ", None),
        ("12345", None),
        ("NOT KNOWN", None),
        ("LS17 7DFF", None),
    ],
)
def test_normalise_postcode(raw: str, norm: str | None) -> None:
    assert normalise_postcode(raw) == norm
    assert postcode_problem(raw) == (None if norm else "bad-format")


def test_postcode_empty_and_pseudo() -> None:
    assert postcode_problem("  ") == "empty"
    assert is_pseudo_postcode("zz99 3vz")
    assert is_pseudo_postcode("ZZ993WZ")
    assert not is_pseudo_postcode("LS17 7DF")
    assert not is_pseudo_postcode("ZZ99")


@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_check_digit_matches_plain_definition(value: str) -> None:
    total = sum((10 - i) * int(c) for i, c in enumerate(value[:9]))
    r = 11 - total % 11
    r = 0 if r == 11 else r
    assert nhs_number_check_digit_ok(value) == (r != 10 and r == int(value[9]))

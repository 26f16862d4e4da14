"""MDSS identity checks, each with a passing and a failing case and the finding's place."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from conformance.engine.run import validate
from tests.conftest import patient, with_nhs_number

UNAVAILABLE = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberUnavailableReason"
)


def run_mdss(
    tmp_path: Path,
    resources: list[dict[str, Any]],
    environment: str | None = "test",
    only: str | None = None,
) -> dict[str, Any]:
    feed = tmp_path / "feed"
    feed.mkdir(exist_ok=True)
    (feed / "Patient.ndjson").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in resources))
    if environment:
        (feed / "manifest.json").write_bytes(
            orjson.dumps({"feed": {"id": "t", "environment": environment}, "files": []})
        )
    standard = tmp_path / "std"
    standard.mkdir(exist_ok=True)
    from conformance.standards.registry import StandardRegistry

    mdss = StandardRegistry.default().resolve("mdss@1.0.0")
    lines = mdss.path.joinpath("standard.yaml").read_text()
    # Keep the identity requirements only: these tests do not exercise the FHIR engine.
    head, _, reqs = lines.partition("requirements:")
    blocks = reqs.split("\n  - id: ")
    kept = [b for b in blocks[1:] if b.startswith("MDSS-ID-")]
    (standard / "standard.yaml").write_text(
        head.replace("id: mdss\n", "id: mdss-id\n")
        + "requirements:\n"
        + "".join("  - id: " + b.rstrip() + "\n" for b in kept)
    )
    card = validate([feed], standard).data
    if only:
        card["only"] = next(r for r in card["requirements"] if r["id"] == only)
        card["only_findings"] = [f for f in card["findings"] if f["requirement"] == only]
    return card


@pytest.fixture
def mdss(tmp_path: Path) -> Callable[..., dict[str, Any]]:
    return lambda resources, **kw: run_mdss(tmp_path, resources, **kw)


def test_id01_unavailable_reason_counts(mdss: Callable[..., dict[str, Any]]) -> None:
    no_number = patient(id="x", identifier=None)
    with_reason = patient(
        id="y",
        identifier=None,
        extension=[{"url": UNAVAILABLE, "valueCodeableConcept": {"coding": [{"code": "01"}]}}],
    )
    card = mdss([no_number, with_reason], only="MDSS-ID-01")
    assert (card["only"]["numerator"], card["only"]["denominator"]) == (1, 2)
    assert card["only_findings"][0]["location"]["line"] == 1
    assert card["only_findings"][0]["code"] == "nhs-number-missing"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("999000001", "nhs-number-format"),
        ("999 000 0018", "nhs-number-format"),
        ("9990000010", "nhs-number-check-digit"),
    ],
    ids=["nine-digits", "spaced", "check-digit"],
)
def test_id02_invalid(mdss: Callable[..., dict[str, Any]], number: str, code: str) -> None:
    card = mdss([with_nhs_number(number)], only="MDSS-ID-02")
    assert card["only"]["status"] == "fail"
    assert [f["code"] for f in card["only_findings"]] == [code]
    assert number.replace(" ", "") not in orjson.dumps(card).decode().replace(" ", "")


def test_id03_sentinel_and_environment(mdss: Callable[..., dict[str, Any]]) -> None:
    card = mdss(
        [with_nhs_number("9999999999", "s"), with_nhs_number("9990000018", "t")], only="MDSS-ID-03"
    )
    assert [f["code"] for f in card["only_findings"]] == ["nhs-number-sentinel"]
    card = mdss([with_nhs_number("9990000018")], environment="production", only="MDSS-ID-03")
    assert [f["code"] for f in card["only_findings"]] == ["nhs-number-test-range"]


def test_id04_verification_share(mdss: Callable[..., dict[str, Any]]) -> None:
    unverified = with_nhs_number("9990000026", "u")
    del unverified["identifier"][0]["extension"]
    card = mdss([with_nhs_number("9990000018"), unverified], only="MDSS-ID-04")
    assert (card["only"]["numerator"], card["only"]["denominator"]) == (1, 2)
    assert "1 of 2 NHS Numbers verified" in card["only"]["note"]


def test_id05_birth_date_rules(mdss: Callable[..., dict[str, Any]]) -> None:
    card = mdss(
        [
            patient(id="a", birthDate="2999-01-01"),
            patient(id="b", birthDate="1980-02-30"),
            patient(id="c", gender=None),
            patient(id="d"),
        ],
        only="MDSS-ID-05",
    )
    assert [f["code"] for f in card["only_findings"]] == [
        "birth-date-future",
        "birth-date-invalid",
        "gender-missing",
    ]
    assert "2999" not in orjson.dumps(card["only_findings"]).decode()


def test_id06_defaults_in_excess(mdss: Callable[..., dict[str, Any]]) -> None:
    def ethnic(code: str, rid: str) -> dict[str, Any]:
        resource = patient(id=rid)
        resource["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] = code
        return resource

    # 10 patients: 8 stated, 2 defaults (Z, 99); 5 % of 10 = 0 allowed -> 2 in excess.
    resources = [ethnic("A", f"s{i}") for i in range(8)] + [ethnic("Z", "z"), ethnic("99", "n")]
    card = mdss(resources, only="MDSS-ID-06")
    assert (card["only"]["numerator"], card["only"]["denominator"]) == (8, 10)
    assert card["only"]["status"] == "partial"
    card = mdss([ethnic("Q", "q")], only="MDSS-ID-06")
    assert [f["code"] for f in card["only_findings"]] == ["ethnic-category-invalid"]


def test_id07_postcodes(mdss: Callable[..., dict[str, Any]]) -> None:
    card = mdss(
        [
            patient(id="a", address=[{"postalCode": "ls14ap"}]),
            patient(id="b", address=[{"postalCode": "ZZ99 3VZ"}]),
            patient(id="c", address=[{"postalCode": "LS1 4A"}]),
        ],
        only="MDSS-ID-07",
    )
    assert (card["only"]["numerator"], card["only"]["denominator"]) == (2, 3)
    [finding] = card["only_findings"]
    assert finding["location"]["expression"] == "Patient.address[0].postalCode"
    assert "LS1 4A" not in finding["message"]

"""Masking: NHS Numbers and other values never reach outputs unless asked for."""

from __future__ import annotations

import pytest

from conformance.findings import Finding, Location, Severity
from conformance.privacy import mask, mask_nhs_number, scrub


@pytest.mark.parametrize(
    ("value", "masked"),
    [("9434765919", "943 *** ****"), ("943 476 5919", "943 *** ****"), ("12345", "*** *** ****")],
)
def test_mask_nhs_number(value: str, masked: str) -> None:
    assert mask_nhs_number(value) == masked


def test_other_kinds_reveal_nothing() -> None:
    assert mask("Alex Testpatient", "name") == "<name: 16 characters>"
    assert mask("LS1 4AP", "postcode") == "<postcode>"
    assert mask("http://snomed.info/sct", "system") == "http://snomed.info/sct"


def test_scrub_catches_numbers_in_free_text() -> None:
    assert scrub("see 9990000018 and 999 000 0026") == "see 999 *** **** and 999 *** ****"
    assert scrub("line 12345678901 stays") == "line 12345678901 stays"
    assert scrub("no digits") == "no digits"


def test_finding_masks_unless_values_shown() -> None:
    finding = Finding(
        "MDSS-ID-02",
        Severity.ERROR,
        "nhs-number-check-digit",
        "the NHS Number {value} fails",
        Location("f.ndjson", 3),
        "Patient",
        "9990000018",
        value="9990000019",
        value_kind="nhs-number",
    )
    data = finding.to_dict()
    assert data["message"] == "the NHS Number 999 *** **** fails"
    assert data["resource_id"] == "999 *** ****"
    assert "9990000019" in finding.render_message(show_values=True)

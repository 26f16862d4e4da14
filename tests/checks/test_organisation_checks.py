"""MDSS-ORG-*: ODS systems and codes, providers, sites and GP practices."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.checks.organisation import is_ods_near_miss
from tests.checks.helpers import (
    ODS_ORG,
    ODS_SITE,
    assert_merge_exact,
    codes,
    compile_check,
    context,
    encounter,
    location,
    organization,
    patient,
    ratio,
    run,
)


def test_org01_pass_and_misspelt_provider(tmp_path: Path) -> None:
    good = run(tmp_path / "a", [encounter(), organization("trust", "RXX")], "MDSS-ORG-01")
    assert good["req"]["status"] == "pass" and good["found"] == []
    bad = encounter("enc-2")
    bad["serviceProvider"]["identifier"]["system"] = "https://fhir.nhs.uk/Id/ods-organisation-code"
    card = run(tmp_path / "b", [encounter(), bad], "MDSS-ORG-01")
    assert card["found"] == [
        (
            "ods-system-misspelt",
            "Encounter.ndjson",
            2,
            "Encounter.serviceProvider.identifier.system",
        )
    ]
    assert ratio(card) == (1, 2)
    # Systems are not patient data: the message names the wrong one.
    assert "ods-organisation-code" in card["findings"][0]["message"]


def test_org01_own_identifiers_and_gp(tmp_path: Path) -> None:
    gp = patient()
    gp["generalPractitioner"][0]["identifier"]["system"] = "http://fhir.nhs.uk/Id/ods-site-code"
    org = organization("x", "RXX", system="https://fhir.nhs.uk/Id/ODS-organization-code")
    card = run(tmp_path, [gp, org], ["MDSS-ORG-01"])
    assert sorted(card["found"]) == [
        ("ods-system-misspelt", "Organization.ndjson", 1, "Organization.identifier[0].system"),
        (
            "ods-system-misspelt",
            "Patient.ndjson",
            1,
            "Patient.generalPractitioner[0].identifier.system",
        ),
    ]


@pytest.mark.parametrize(
    ("system", "wrong"),
    [
        (ODS_ORG, False),
        (ODS_SITE, False),
        ("https://fhir.nhs.uk/Id/nhs-number", False),
        ("https://fhir.nhs.uk/Id/ods-organisation-code", True),
        ("https://fhir.nhs.uk/Id/ods-org-code", True),
        ("HTTPS://FHIR.NHS.UK/Id/ods-site-code", True),
    ],
)
def test_org01_near_miss(system: str, wrong: bool) -> None:
    assert is_ods_near_miss(system) is wrong


@pytest.mark.parametrize(
    ("where", "value", "expression", "code"),
    [
        ("gp", "B8602", "Patient.generalPractitioner[0].identifier.value", "ods-code-bad-length"),
        ("provider", "RXX1", "Encounter.serviceProvider.identifier.value", "ods-code-bad-length"),
        ("site", "RXX0", "Encounter.location[0].location.identifier.value", "ods-code-bad-length"),
        ("site", "rxx01", "Encounter.location[0].location.identifier.value", "ods-code-lowercase"),
    ],
)
def test_org02_frames(tmp_path: Path, where: str, value: str, expression: str, code: str) -> None:
    if where == "gp":
        resource = patient()
        resource["generalPractitioner"][0]["identifier"]["value"] = value
    elif where == "provider":
        resource = encounter()
        resource["serviceProvider"]["identifier"]["value"] = value
    else:
        resource = encounter()
        resource["location"][0]["location"]["identifier"]["value"] = value
    card = run(tmp_path, [resource], "MDSS-ORG-02")
    file = f"{resource['resourceType']}.ndjson"
    assert card["found"] == [(code, file, 1, expression)]
    assert card["req"]["status"] == "fail"


def test_org02_pass_and_own_codes(tmp_path: Path) -> None:
    feed = [
        patient(),
        encounter(),
        organization("ics", "QWO"),
        organization("gp", "B86022"),
        location("site-1", "RXX01"),
    ]
    assert run(tmp_path / "a", feed, "MDSS-ORG-02")["req"]["status"] == "pass"
    card = run(tmp_path / "b", [location("s", "RXX0100"), organization("o", "AB")], "MDSS-ORG-02")
    assert sorted(card["found"]) == [
        ("ods-code-bad-length", "Location.ndjson", 1, "Location.identifier[0].value"),
        ("ods-code-bad-length", "Organization.ndjson", 1, "Organization.identifier[0].value"),
    ]


def test_org03_provider(tmp_path: Path) -> None:
    by_reference = encounter("e2", serviceProvider={"reference": "Organization/trust"})
    unknown = encounter("e3", serviceProvider={"reference": "Organization/nowhere"})
    missing = encounter("e4", serviceProvider=None)
    feed = [encounter(), by_reference, unknown, missing, organization("trust", "RXX")]
    card = run(tmp_path, feed, "MDSS-ORG-03")
    assert ratio(card) == (2, 4)
    assert sorted(card["found"]) == [
        ("service-provider-missing", "Encounter.ndjson", 4, "Encounter.serviceProvider"),
        ("service-provider-not-ods", "Encounter.ndjson", 3, "Encounter.serviceProvider"),
    ]
    good = run(
        tmp_path / "g", [encounter(), by_reference, organization("trust", "RXX")], "MDSS-ORG-03"
    )
    assert good["req"]["status"] == "pass"


def test_org03_organization_without_ods_code(tmp_path: Path) -> None:
    ref_only = encounter(serviceProvider={"reference": "Organization/trust"})
    card = run(tmp_path, [ref_only, organization("trust", None)], "MDSS-ORG-03")
    assert codes(card) == ["service-provider-not-ods"]


def test_org04_site(tmp_path: Path) -> None:
    by_reference = encounter("e2", location=[{"location": {"reference": "Location/site-1"}}])
    no_site = encounter("e3", location=None)
    feed = [encounter(), by_reference, no_site, location("site-1", "RXX01")]
    card = run(tmp_path, feed, "MDSS-ORG-04")
    assert ratio(card) == (2, 3)
    assert card["found"] == [
        ("encounter-location-missing", "Encounter.ndjson", 3, "Encounter.location")
    ]
    unresolved = run(tmp_path / "u", [by_reference], "MDSS-ORG-04")
    assert unresolved["found"] == [
        ("encounter-site-not-ods", "Encounter.ndjson", 1, "Encounter.location")
    ]
    assert run(tmp_path / "p", [encounter()], "MDSS-ORG-04")["req"]["status"] == "pass"


def test_org05_gp(tmp_path: Path) -> None:
    card = run(tmp_path, [patient(), patient("p2", generalPractitioner=None)], "MDSS-ORG-05")
    assert ratio(card) == (1, 2)
    assert card["found"] == [("gp-missing", "Patient.ndjson", 2, "Patient.generalPractitioner")]
    by_ref = patient(generalPractitioner=[{"reference": "Organization/gp"}])
    good = run(tmp_path / "g", [by_ref, organization("gp", "B86022")], "MDSS-ORG-05")
    assert good["req"]["status"] == "pass"


@pytest.mark.parametrize("requirement", ["MDSS-ORG-03", "MDSS-ORG-04", "MDSS-ORG-05"])
def test_org_links_merge_exactly(requirement: str) -> None:
    feed = [
        encounter(
            "e1",
            serviceProvider={"reference": "Organization/trust"},
            location=[{"location": {"reference": "Location/site-1"}}],
        ),
        patient("p1", generalPractitioner=[{"reference": "Organization/gp"}]),
        encounter("e2", serviceProvider={"reference": "Organization/none"}, location=None),
        patient("p2", generalPractitioner=None),
        organization("trust", "RXX"),
        organization("gp", "B86022"),
        location("site-1", "RXX01"),
        encounter("e3"),
    ]
    assert_merge_exact(compile_check(requirement), feed, context())

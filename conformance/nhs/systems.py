"""Identifier and code system URIs used by NHS England feeds (UK Core conventions)."""

from __future__ import annotations

from typing import Final

NHS_NUMBER_SYSTEM: Final = "https://fhir.nhs.uk/Id/nhs-number"

ODS_ORGANIZATION_SYSTEM: Final = "https://fhir.nhs.uk/Id/ods-organization-code"
ODS_SITE_SYSTEM: Final = "https://fhir.nhs.uk/Id/ods-site-code"
ODS_SYSTEMS: Final = frozenset({ODS_ORGANIZATION_SYSTEM, ODS_SITE_SYSTEM})
# Spellings seen in real feeds that are not the UK Core system URIs. UK Core's own guide
# pages spell "organisation" the British way, so both circulate; only the "z" form is right.
ODS_MISSPELT_SYSTEMS: Final = frozenset(
    {
        "https://fhir.nhs.uk/Id/ods-organisation-code",
        "http://fhir.nhs.uk/Id/ods-organization-code",
        "http://fhir.nhs.uk/Id/ods-organisation-code",
        "https://fhir.nhs.uk/id/ods-organization-code",
        "https://fhir.nhs.uk/Id/ods-organization",
        "https://fhir.nhs.uk/Id/ods-org-code",
        "http://fhir.nhs.uk/Id/ods-site-code",
        "https://fhir.nhs.uk/id/ods-site-code",
        "https://fhir.nhs.uk/Id/ods-site",
    }
)

SNOMED_SYSTEM: Final = "http://snomed.info/sct"
DMD_SYSTEM: Final = "https://dmd.nhs.uk"
LOINC_SYSTEM: Final = "http://loinc.org"
UCUM_SYSTEM: Final = "http://unitsofmeasure.org"

"""UK Core (R4, package UKCore.R4.STU.02.00.00 2.0.0) URLs and codes used by MDSS checks.

Verified against the published UK Core R4 XML package; the file is cited per constant.
"""

from __future__ import annotations

from typing import Final

# structuredefinitions/Extension-UKCore-EthnicCategory.xml: context Patient,
# value[x] 1..1 CodeableConcept bound (extensible, via UKCore-Patient) to the ValueSet below.
EXT_ETHNIC_CATEGORY: Final = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
)
# valuesets/ValueSet-UKCore-EthnicCategory.xml
VS_ETHNIC_CATEGORY: Final = "https://fhir.hl7.org.uk/ValueSet/UKCore-EthnicCategory"
# codesystems/CodeSystem-UKCore-EthnicCategoryEngland.xml
CS_ETHNIC_CATEGORY_ENGLAND: Final = (
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland"
)

# structuredefinitions/Extension-UKCore-NHSNumberVerificationStatus.xml: a *simple*
# extension (no sub-extensions) whose context is Patient.identifier, value[x] 1..1
# CodeableConcept, required binding; UKCore-Patient.xml places it as the slice
# Patient.identifier:nhsNumber.extension:nhsNumberVerificationStatus.
EXT_NHS_NUMBER_VERIFICATION_STATUS: Final = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
)
# valuesets/ValueSet-UKCore-NHSNumberVerificationStatus.xml
VS_NHS_NUMBER_VERIFICATION_STATUS: Final = (
    "https://fhir.hl7.org.uk/ValueSet/UKCore-NHSNumberVerificationStatus"
)
# codesystems/CodeSystem-UKCore-NHSNumberVerificationStatusEngland.xml
CS_NHS_NUMBER_VERIFICATION_STATUS_ENGLAND: Final = (
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland"
)

# structuredefinitions/Extension-UKCore-NHSNumberUnavailableReason.xml: context Patient,
# max 1, value[x] 1..1 CodeableConcept.
EXT_NHS_NUMBER_UNAVAILABLE_REASON: Final = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberUnavailableReason"
)
# valuesets/ValueSet-UKCore-NHSNumberUnavailableReason.xml
VS_NHS_NUMBER_UNAVAILABLE_REASON: Final = (
    "https://fhir.hl7.org.uk/ValueSet/UKCore-NHSNumberUnavailableReason"
)
# codesystems/CodeSystem-UKCore-NHSNumberUnavailableReason.xml
CS_NHS_NUMBER_UNAVAILABLE_REASON: Final = (
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberUnavailableReason"
)

# codesystems/CodeSystem-UKCore-EthnicCategoryEngland.xml (NHS Data Dictionary letters;
# I, O and Q are not used).
ETHNIC_CATEGORY_ENGLAND: Final[dict[str, str]] = {
    "A": "White - British",
    "B": "White - Irish",
    "C": "White - Any other White background",
    "D": "Mixed - White and Black Caribbean",
    "E": "Mixed - White and Black African",
    "F": "Mixed - White and Asian",
    "G": "Mixed - Any other mixed background",
    "H": "Asian or Asian British - Indian",
    "J": "Asian or Asian British - Pakistani",
    "K": "Asian or Asian British - Bangladeshi",
    "L": "Asian or Asian British - Any other Asian background",
    "M": "Black or Black British - Caribbean",
    "N": "Black or Black British - African",
    "P": "Black or Black British - Any other Black background",
    "R": "Other Ethnic Groups - Chinese",
    "S": "Other Ethnic Groups - Any other ethnic group",
    "Z": "Not stated",
    "99": "Not known",
}
# Codes that DQMI-style scoring counts as defaults rather than valid-and-complete values.
ETHNIC_CATEGORY_DEFAULT_CODES: Final = frozenset({"Z", "99"})
ETHNIC_CATEGORY_STATED_CODES: Final = frozenset(ETHNIC_CATEGORY_ENGLAND) - (
    ETHNIC_CATEGORY_DEFAULT_CODES
)

# codesystems/CodeSystem-UKCore-NHSNumberVerificationStatusEngland.xml
NHS_NUMBER_VERIFICATION_STATUS_ENGLAND: Final[dict[str, str]] = {
    "01": "Number present and verified",
    "02": "Number present but not traced",
    "03": "Trace required",
    "04": "Trace attempted - No match or multiple match found",
    "05": "Trace needs to be resolved - (NHS number or patient detail conflict)",
    "06": "Trace in progress",
    "07": "Number not present and trace not required",
    "08": "Trace postponed (baby under six weeks old)",
}
NHS_NUMBER_VERIFIED_CODE: Final = "01"

# codesystems/CodeSystem-UKCore-NHSNumberUnavailableReason.xml (the ValueSet also draws on
# UKCore-WithheldIdentityReason).
NHS_NUMBER_UNAVAILABLE_REASON: Final[dict[str, str]] = {
    "nhs-number-not-known": "NHS number not known",
    "overseas-patient": "Overseas patient",
    "devolved-nation": "Devolved nation",
}

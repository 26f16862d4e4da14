"""NHS identifier and code algorithms: NHS Number, SNOMED CT SCTID, ODS, postcodes, UK Core.

Pure functions with no I/O, safe to call per record.
"""

from __future__ import annotations

from conformance.nhs.nhs_number import (
    MASKED_NHS_NUMBER,
    SENTINEL_NHS_NUMBERS,
    NhsNumberRange,
    is_sentinel_nhs_number,
    mask_nhs_number,
    nhs_number_check_digit,
    nhs_number_check_digit_ok,
    nhs_number_range,
    normalise_nhs_number,
)
from conformance.nhs.ods import ODS_FRAMES, OdsFrame, OdsProblem, ods_code_problem
from conformance.nhs.postcode import (
    PostcodeProblem,
    is_pseudo_postcode,
    normalise_postcode,
    postcode_problem,
)
from conformance.nhs.snomed import (
    SCTID_PARTITIONS,
    SctidKind,
    SctidProblem,
    sctid_kind,
    sctid_partition,
    sctid_problem,
    verhoeff_check_digit,
    verhoeff_ok,
)
from conformance.nhs.systems import (
    DMD_SYSTEM,
    LOINC_SYSTEM,
    NHS_NUMBER_SYSTEM,
    ODS_MISSPELT_SYSTEMS,
    ODS_ORGANIZATION_SYSTEM,
    ODS_SITE_SYSTEM,
    ODS_SYSTEMS,
    SNOMED_SYSTEM,
    UCUM_SYSTEM,
)

__all__ = [
    "DMD_SYSTEM",
    "LOINC_SYSTEM",
    "MASKED_NHS_NUMBER",
    "NHS_NUMBER_SYSTEM",
    "ODS_FRAMES",
    "ODS_MISSPELT_SYSTEMS",
    "ODS_ORGANIZATION_SYSTEM",
    "ODS_SITE_SYSTEM",
    "ODS_SYSTEMS",
    "SCTID_PARTITIONS",
    "SENTINEL_NHS_NUMBERS",
    "SNOMED_SYSTEM",
    "UCUM_SYSTEM",
    "NhsNumberRange",
    "OdsFrame",
    "OdsProblem",
    "PostcodeProblem",
    "SctidKind",
    "SctidProblem",
    "is_pseudo_postcode",
    "is_sentinel_nhs_number",
    "mask_nhs_number",
    "nhs_number_check_digit",
    "nhs_number_check_digit_ok",
    "nhs_number_range",
    "normalise_nhs_number",
    "normalise_postcode",
    "ods_code_problem",
    "postcode_problem",
    "sctid_kind",
    "sctid_partition",
    "sctid_problem",
    "verhoeff_check_digit",
    "verhoeff_ok",
]

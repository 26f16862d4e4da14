"""Realistic defects, one kind per MDSS requirement, applied to built resources.

Each record-level defect names the resource types it applies to, the parts of a resource it
touches (two defects never touch the same part of one record, so each stays detectable) and
a mutator. A mutator edits the resource in place and returns what it injected as
``(requirement id, description)`` pairs: the first is its own requirement, any others are
per-record consequences a validator will also report (blanking ethnic category for
COMP-01 is also an ID-06 defect). An empty list means the record did not qualify.

Descriptions name element paths only, never values from the record.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from conformance.nhs.snomed import verhoeff_check_digit
from conformance.nhs.systems import NHS_NUMBER_SYSTEM, ODS_ORGANIZATION_SYSTEM, SNOMED_SYSTEM
from conformance.nhs.ukcore import EXT_ETHNIC_CATEGORY
from conformance.samples.builder import FeedContext, Resource, iso_utc, uuid4_from_bits

Injected = list[tuple[str, str]]
Mutator = Callable[[Resource, "DefectState", random.Random], Injected]

MISSPELT_ODS_SYSTEM: Final = "https://fhir.nhs.uk/Id/ods-organisation-code"
_SENTINELS: Final = tuple(str(d) * 10 for d in (9, 0, 1, 2, 3, 4, 5, 6, 7, 8))
_BAD_POSTCODES: Final = ("LS17 7DFF", "NOT KNOWN", "L1 8JQQ", "0113 7DF", "LS17", "WF1-2DT")

PATIENT_TYPES: Final = frozenset(
    {
        "Patient",
        "Encounter",
        "Observation",
        "Condition",
        "MedicationRequest",
        "QuestionnaireResponse",
    }
)
ALL_TYPES: Final = PATIENT_TYPES | {"Organization", "Location"}

# Defects of the feed as a whole: injected once when their rate is above zero.
FEED_LEVEL: Final = frozenset({"MDSS-PROV-01", "MDSS-PROV-02", "MDSS-SEC-01", "MDSS-TIME-03"})
# Defects of rows of the SITREP table.
TABLE_LEVEL: Final = frozenset({"MDSS-TAB-01", "MDSS-TAB-02"})
# Requirements that cannot be injected into one feed.
NOT_INJECTABLE: Final = {"MDSS-TIME-04": "needs a history of submissions, not one feed"}


@dataclass(slots=True)
class DefectState:
    """What mutators share across records of one feed."""

    ctx: FeedContext
    last_clean_nhs: str | None = None
    sentinel_next: int = 0
    drop_follow_up: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RecordDefect:
    requirement_id: str
    types: frozenset[str]
    touches: frozenset[str]
    mutate: Mutator


def _nhs_identifier(res: Resource) -> Resource | None:
    for ident in res.get("identifier", ()):
        if ident.get("system") == NHS_NUMBER_SYSTEM and "value" in ident:
            return ident  # type: ignore[no-any-return]
    return None


def _drop(res: Resource, key: str) -> bool:
    return res.pop(key, None) is not None


# -- identity ----------------------------------------------------------------------------


def _id01(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    ident = _nhs_identifier(res)
    if ident is None:
        return []
    res["identifier"] = [i for i in res["identifier"] if i is not ident]
    if not res["identifier"]:
        del res["identifier"]
    return [("MDSS-ID-01", "NHS Number identifier removed; no NHSNumberUnavailableReason given")]


def _id02(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    ident = _nhs_identifier(res)
    if ident is None:
        return []
    value: str = ident["value"]
    wrong = (int(value[9]) + rng.randrange(1, 10)) % 10
    ident["value"] = f"{value[:9]}{wrong}"
    return [("MDSS-ID-02", "Patient.identifier (NHS Number) given a wrong Modulus 11 check digit")]


def _id03(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    ident = _nhs_identifier(res)
    if ident is None:
        return []
    ident["value"] = _SENTINELS[st.sentinel_next % len(_SENTINELS)]
    st.sentinel_next += 1
    return [("MDSS-ID-03", "Patient.identifier (NHS Number) replaced by a placeholder sentinel")]


def _id04(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    ident = _nhs_identifier(res)
    if ident is None or not _drop(ident, "extension"):
        return []
    return [("MDSS-ID-04", "NHSNumberVerificationStatus extension removed from the identifier")]


def _id05(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    if rng.random() < 2 / 3:
        if not _drop(res, "birthDate"):
            return []
        return [("MDSS-ID-05", "Patient.birthDate removed")]
    if not _drop(res, "gender"):
        return []
    return [("MDSS-ID-05", "Patient.gender removed")]


def _ethnic_ext(res: Resource) -> Resource | None:
    for ext in res.get("extension", ()):
        if ext.get("url") == EXT_ETHNIC_CATEGORY:
            return ext  # type: ignore[no-any-return]
    return None


def _remove_ethnic(res: Resource) -> bool:
    ext = _ethnic_ext(res)
    if ext is None:
        return False
    res["extension"] = [e for e in res["extension"] if e is not ext]
    if not res["extension"]:
        del res["extension"]
    return True


def _id06(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    ext = _ethnic_ext(res)
    if ext is None:
        return []
    roll = rng.random()
    if roll < 0.5:
        _remove_ethnic(res)
        return [("MDSS-ID-06", "EthnicCategory extension removed")]
    code, display = ("Z", "Not stated") if roll < 0.75 else ("99", "Not known")
    coding = ext["valueCodeableConcept"]["coding"][0]
    coding["code"] = code
    coding["display"] = display
    return [("MDSS-ID-06", f"EthnicCategory set to the default code {code}")]


def _id07(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    addresses = res.get("address")
    if not addresses or "postalCode" not in addresses[0]:
        return []
    addresses[0]["postalCode"] = rng.choice(_BAD_POSTCODES)
    return [("MDSS-ID-07", "Patient.address.postalCode made malformed")]


def _id08(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    ident = _nhs_identifier(res)
    if ident is None or st.last_clean_nhs is None:
        return []
    ident["value"] = st.last_clean_nhs
    return [("MDSS-ID-08", "NHS Number copied from the previous Patient in the file")]


# -- organisation and site ---------------------------------------------------------------


def _org_reference(res: Resource) -> Resource | None:
    """The ODS-identified organisation reference this resource carries, if any."""
    kind = res["resourceType"]
    if kind == "Patient":
        gps = res.get("generalPractitioner")
        return gps[0] if gps else None
    if kind == "Encounter":
        return res.get("serviceProvider")
    return None


def _org01(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    if res["resourceType"] == "Organization":
        ident = res["identifier"][0]
        where = "Organization.identifier.system"
    else:
        ref = _org_reference(res)
        if ref is None or "identifier" not in ref:
            return []
        ident = ref["identifier"]
        where = (
            "Patient.generalPractitioner.identifier.system"
            if res["resourceType"] == "Patient"
            else "Encounter.serviceProvider.identifier.system"
        )
    if ident.get("system") != ODS_ORGANIZATION_SYSTEM:
        return []
    ident["system"] = MISSPELT_ODS_SYSTEM
    return [("MDSS-ORG-01", f"{where} spelt ods-organisation-code")]


def _org02(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    if res["resourceType"] == "Patient":
        ref = _org_reference(res)
        if ref is None:
            return []
        ref["identifier"]["value"] = ref["identifier"]["value"][:5]
        return [
            (
                "MDSS-ORG-02",
                "Patient.generalPractitioner.identifier.value: GP practice code of 5 characters",
            )
        ]
    if rng.random() < 0.5:
        ref = res.get("serviceProvider")
        if ref is None:
            return []
        ref["identifier"]["value"] = f"{st.ctx.sender}1"
        return [
            (
                "MDSS-ORG-02",
                "Encounter.serviceProvider.identifier.value: trust code of 4 characters",
            )
        ]
    locations = res.get("location")
    if not locations:
        return []
    ident = locations[0]["location"]["identifier"]
    ident["value"] = ident["value"][:4]
    return [("MDSS-ORG-02", "Encounter.location.location.identifier.value: site code of 4 chars")]


def _org03(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    if not _drop(res, "serviceProvider"):
        return []
    return [("MDSS-ORG-03", "Encounter.serviceProvider removed")]


def _org04(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    if not _drop(res, "location"):
        return []
    return [("MDSS-ORG-04", "Encounter.location removed")]


def _org05(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    if not _drop(res, "generalPractitioner"):
        return []
    return [("MDSS-ORG-05", "Patient.generalPractitioner removed")]


# -- terminology -------------------------------------------------------------------------


def _snomed_coding(concept: Resource) -> Resource | None:
    for coding in concept.get("coding", ()):
        if coding.get("system") == SNOMED_SYSTEM:
            return coding  # type: ignore[no-any-return]
    return None


def _term01(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    coding = _snomed_coding(res.get("code", {}))
    if coding is None:
        return []
    code: str = coding["code"]
    if rng.random() < 0.75:
        wrong = (int(code[-1]) + rng.randrange(1, 10)) % 10
        coding["code"] = f"{code[:-1]}{wrong}"
        return [
            ("MDSS-TERM-01", "Condition.code SNOMED CT code given a wrong Verhoeff check digit")
        ]
    body = f"{code[:-3]}05"  # partition 05 does not exist
    coding["code"] = body + verhoeff_check_digit(body)
    return [("MDSS-TERM-01", "Condition.code SNOMED CT code given an invalid partition")]


def _term02(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    status = res.get("clinicalStatus")
    if status is None:
        return []
    status["coding"][0]["code"] = "current"
    return [("MDSS-TERM-02", "Condition.clinicalStatus code outside its required value set")]


def _term03(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    if "category" not in res:
        return []
    res["category"] = [{"coding": [{"system": "urn:x-local:condition-category", "code": "DX"}]}]
    return [
        (
            "MDSS-TERM-03",
            "Condition.category: local code outside its extensible value set, no text",
        )
    ]


def _term04(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    code = res.get("code")
    if code is None or "coding" not in code:
        return []
    text = code["coding"][-1].get("display", "clinical finding")
    res["code"] = {"text": text}
    return [("MDSS-TERM-04", f"{res['resourceType']}.code given as text only (no SNOMED CT)")]


def _term05(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    med = res.get("medicationCodeableConcept")
    if med is None:
        return []
    display = med["coding"][0].get("display", "medicine")
    if rng.random() < 0.5:
        res["medicationCodeableConcept"] = {"text": display}
        return [("MDSS-TERM-05", "MedicationRequest.medicationCodeableConcept text only")]
    res["medicationCodeableConcept"] = {
        "coding": [{"system": "urn:x-local:formulary", "code": "F1024", "display": display}]
    }
    return [("MDSS-TERM-05", "MedicationRequest.medicationCodeableConcept local code, not dm+d")]


# -- structure ---------------------------------------------------------------------------


def _str02(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    if res["resourceType"] == "Patient":
        gender = res.get("gender")
        if gender is None:
            return []
        res["gender"] = gender[0]
        return [("MDSS-STR-02", "Patient.gender abbreviated to one letter (not a valid code)")]
    res["comment"] = "Reading repeated."
    return [("MDSS-STR-02", "Observation.comment is not an R4 element (STU3 name of note)")]


def _str03(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    if not _drop(res, "effectiveDateTime"):
        return []
    return [("MDSS-STR-03", "Observation.effective[x] removed (required by MDSS-Observation)")]


def _str04(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    meta = res.get("meta")
    if not meta or not _drop(meta, "profile"):
        return []
    return [("MDSS-STR-04", f"{res['resourceType']}.meta.profile removed")]


# -- references --------------------------------------------------------------------------


def _ref01(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    if "encounter" not in res:
        return []
    missing = uuid4_from_bits(rng.getrandbits(128))
    res["encounter"] = {"reference": f"Encounter/{missing}"}
    return [
        ("MDSS-REF-01", f"{res['resourceType']}.encounter points to an Encounter not in the feed")
    ]


def _ref02(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    if not _drop(res, "subject"):
        return []
    return [("MDSS-REF-02", f"{res['resourceType']}.subject removed")]


def _ref03(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    if not _drop(res, "encounter"):
        return []
    return [("MDSS-REF-03", f"{res['resourceType']}.encounter removed")]


# -- timeliness --------------------------------------------------------------------------


def _time01(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    meta = res.get("meta")
    if not meta or not _drop(meta, "lastUpdated"):
        return []
    return [("MDSS-TIME-01", f"{res['resourceType']}.meta.lastUpdated removed")]


def _time02(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    if res["resourceType"] == "Observation":
        if "effectiveDateTime" not in res:
            return []
        res["effectiveDateTime"] = iso_utc(st.ctx.extracted_ts + 3600 * rng.randrange(24, 120))
        return [("MDSS-TIME-02", "Observation.effectiveDateTime after the feed's extracted time")]
    period = res.get("period")
    if period is None:
        return []
    start = period["start"]
    if "end" in period:
        period["start"], period["end"] = period["end"], start
    else:
        period["end"] = start
        period["start"] = iso_utc(st.ctx.extracted_ts - 1800)
    return [("MDSS-TIME-02", "Encounter.period.end before period.start")]


# -- completeness ------------------------------------------------------------------------


def _comp01(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    out: Injected = [
        ("MDSS-COMP-01", "Patient name, telecom, address, ethnic category and GP blanked")
    ]
    for key in ("name", "telecom", "address"):
        _drop(res, key)
    if _remove_ethnic(res):
        out.append(("MDSS-ID-06", "EthnicCategory extension removed (with COMP-01)"))
    if _drop(res, "generalPractitioner"):
        out.append(("MDSS-ORG-05", "Patient.generalPractitioner removed (with COMP-01)"))
    return out


def _comp02(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    removed = [k for k in ("type", "reasonCode") if _drop(res, k)]
    if not removed:
        return []
    return [("MDSS-COMP-02", "Encounter must-support elements type and reasonCode blanked")]


# -- outcomes ----------------------------------------------------------------------------


def _out01(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    if res.get("status") != "completed":
        return []
    res["status"] = rng.choice(("in-progress", "stopped"))
    return [("MDSS-OUT-01", "QuestionnaireResponse.status is not completed")]


def _out02(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    if st.extra.get("pair") != "baseline":
        return []
    st.drop_follow_up = True
    return [("MDSS-OUT-02", "Baseline PROM without its follow-up QuestionnaireResponse")]


# -- provenance --------------------------------------------------------------------------


def _prov03(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    meta = res.get("meta")
    if not meta or not _drop(meta, "source"):
        return []
    return [("MDSS-PROV-03", f"{res['resourceType']}.meta.source removed")]


def _truncate_marker(res: Resource, st: DefectState, rng: random.Random) -> Injected:
    return [("MDSS-STR-01", f"{res['resourceType']} NDJSON line truncated mid-record")]


_F = frozenset

RECORD_DEFECTS: Final[tuple[RecordDefect, ...]] = (
    # STR-01 first: a truncated record carries no other defect.
    RecordDefect(
        "MDSS-STR-01",
        _F({"Observation", "Condition", "MedicationRequest"}),
        _F({"*"}),
        _truncate_marker,
    ),
    RecordDefect("MDSS-ID-01", _F({"Patient"}), _F({"nhs-number"}), _id01),
    RecordDefect("MDSS-ID-02", _F({"Patient"}), _F({"nhs-number"}), _id02),
    RecordDefect("MDSS-ID-03", _F({"Patient"}), _F({"nhs-number"}), _id03),
    RecordDefect("MDSS-ID-04", _F({"Patient"}), _F({"nhs-verification"}), _id04),
    RecordDefect("MDSS-ID-05", _F({"Patient"}), _F({"birthDate", "gender"}), _id05),
    RecordDefect("MDSS-ID-06", _F({"Patient"}), _F({"ethnic"}), _id06),
    RecordDefect("MDSS-ID-07", _F({"Patient"}), _F({"address"}), _id07),
    RecordDefect("MDSS-ID-08", _F({"Patient"}), _F({"nhs-number"}), _id08),
    RecordDefect(
        "MDSS-ORG-01",
        _F({"Patient", "Encounter", "Organization"}),
        _F({"gp", "serviceProvider", "identifier"}),
        _org01,
    ),
    RecordDefect(
        "MDSS-ORG-02",
        _F({"Patient", "Encounter"}),
        _F({"gp", "serviceProvider", "location"}),
        _org02,
    ),
    RecordDefect("MDSS-ORG-03", _F({"Encounter"}), _F({"serviceProvider"}), _org03),
    RecordDefect("MDSS-ORG-04", _F({"Encounter"}), _F({"location"}), _org04),
    RecordDefect("MDSS-ORG-05", _F({"Patient"}), _F({"gp"}), _org05),
    RecordDefect("MDSS-TERM-01", _F({"Condition"}), _F({"code"}), _term01),
    RecordDefect("MDSS-TERM-02", _F({"Condition"}), _F({"clinicalStatus"}), _term02),
    RecordDefect("MDSS-TERM-03", _F({"Condition"}), _F({"category"}), _term03),
    RecordDefect("MDSS-TERM-04", _F({"Condition", "Observation"}), _F({"code"}), _term04),
    RecordDefect("MDSS-TERM-05", _F({"MedicationRequest"}), _F({"medication"}), _term05),
    RecordDefect("MDSS-STR-02", _F({"Patient", "Observation"}), _F({"gender", "comment"}), _str02),
    RecordDefect("MDSS-STR-03", _F({"Observation"}), _F({"effective"}), _str03),
    RecordDefect("MDSS-STR-04", PATIENT_TYPES, _F({"meta.profile"}), _str04),
    RecordDefect("MDSS-REF-01", _F({"Observation", "Condition"}), _F({"encounter"}), _ref01),
    RecordDefect("MDSS-REF-02", _F({"Observation"}), _F({"subject"}), _ref02),
    RecordDefect("MDSS-REF-03", _F({"Observation", "Condition"}), _F({"encounter"}), _ref03),
    RecordDefect("MDSS-TIME-01", ALL_TYPES, _F({"meta.lastUpdated"}), _time01),
    RecordDefect(
        "MDSS-TIME-02", _F({"Observation", "Encounter"}), _F({"effective", "period"}), _time02
    ),
    RecordDefect(
        "MDSS-COMP-01",
        _F({"Patient"}),
        _F({"name", "telecom", "address", "ethnic", "gp"}),
        _comp01,
    ),
    RecordDefect("MDSS-COMP-02", _F({"Encounter"}), _F({"type", "reasonCode"}), _comp02),
    RecordDefect("MDSS-OUT-01", _F({"QuestionnaireResponse"}), _F({"qr"}), _out01),
    RecordDefect("MDSS-OUT-02", _F({"QuestionnaireResponse"}), _F({"qr"}), _out02),
    RecordDefect("MDSS-PROV-03", ALL_TYPES, _F({"meta.source"}), _prov03),
)

SUPPORTED_DEFECTS: Final = frozenset(
    {d.requirement_id for d in RECORD_DEFECTS} | FEED_LEVEL | TABLE_LEVEL
)

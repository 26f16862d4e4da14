"""Defect-free synthetic resources, built one patient at a time.

All randomness comes from one ``random.Random`` seeded from the caller's seed, so the same
seed gives the same resources on every run and platform. Nothing here touches the disk.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Any

from conformance.nhs.nhs_number import SENTINEL_NHS_NUMBERS, nhs_number_check_digit
from conformance.nhs.ods import ods_code_problem
from conformance.nhs.systems import (
    DMD_SYSTEM,
    LOINC_SYSTEM,
    NHS_NUMBER_SYSTEM,
    ODS_ORGANIZATION_SYSTEM,
    ODS_SITE_SYSTEM,
    SNOMED_SYSTEM,
    UCUM_SYSTEM,
)
from conformance.nhs.ukcore import (
    CS_ETHNIC_CATEGORY_ENGLAND,
    CS_NHS_NUMBER_UNAVAILABLE_REASON,
    CS_NHS_NUMBER_VERIFICATION_STATUS_ENGLAND,
    ETHNIC_CATEGORY_ENGLAND,
    EXT_ETHNIC_CATEGORY,
    EXT_NHS_NUMBER_UNAVAILABLE_REASON,
    EXT_NHS_NUMBER_VERIFICATION_STATUS,
    NHS_NUMBER_UNAVAILABLE_REASON,
    NHS_NUMBER_VERIFICATION_STATUS_ENGLAND,
)
from conformance.samples import content as C

Resource = dict[str, Any]

# Share of patients legitimately without an NHS Number (NHSNumberUnavailableReason given).
NO_NHS_NUMBER_SHARE = 0.01
# Share of patients with a baseline + follow-up PROM pair (two QuestionnaireResponses each).
PROM_PAIR_SHARE = 0.25
# Capacity of the 999 test range after Modulus 11 rejects (one in eleven prefixes has none).
_NHS_PREFIXES = 1_000_000
_NHS_STEP = 738_197  # coprime with 10**6: walks every 999xxxxxx prefix once, scrambled


_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)


def uuid4_from_bits(bits: int) -> str:
    """A version-4 UUID string from 128 random bits (what ``uuid.UUID(int=, version=4)`` gives)."""
    h = f"{(bits & _UUID_CLEAR) | _UUID_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def iso_utc(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _day(ts: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


def _epoch(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


@dataclass(frozen=True, slots=True)
class FeedContext:
    """The feed-wide facts resources are built against."""

    ics: str
    sender: str
    period_start: date
    period_end: date
    extracted: datetime
    environment: str

    @property
    def start_ts(self) -> int:
        return _epoch(self.period_start)

    @property
    def end_ts(self) -> int:
        """The end of the last day of the period (exclusive)."""
        return _epoch(self.period_end + timedelta(days=1))

    @property
    def extracted_ts(self) -> int:
        return int(self.extracted.timestamp())

    @property
    def site_codes(self) -> tuple[str, ...]:
        return tuple(f"{self.sender}{n:02d}" for n in (1, 2, 3))

    def validate(self) -> None:
        if ods_code_problem(self.ics, "icb") is not None:
            raise ValueError("ics must be a 3-character ICB ODS code starting with Q")
        if ods_code_problem(self.sender, "trust") is not None:
            raise ValueError("sender must be a 3-character trust ODS code")
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        if self.extracted_ts < self.end_ts:
            raise ValueError("extracted must be after the end of the period")
        if self.environment not in ("production", "test"):
            raise ValueError("environment must be 'production' or 'test'")


@dataclass(slots=True)
class Record:
    """One resource to write, with what defect injection needs to know about it."""

    resource_type: str
    resource: Resource
    pair: str | None = None
    """For PROM QuestionnaireResponses: "baseline" or "follow-up"."""


@dataclass(slots=True)
class PatientRecords:
    nhs_number: str | None
    records: list[Record] = field(default_factory=list)


class NhsNumberAllocator:
    """Unique, valid 999-range test NHS Numbers in a scrambled but fixed order."""

    def __init__(self, seed: int) -> None:
        self._next = 0
        self._offset = (seed * 7919) % _NHS_PREFIXES

    def allocate(self) -> str:
        while self._next < _NHS_PREFIXES:
            k = (self._offset + self._next * _NHS_STEP) % _NHS_PREFIXES
            self._next += 1
            prefix = f"999{k:06d}"
            check = nhs_number_check_digit(prefix)
            if check is not None and f"{prefix}{check}" not in SENTINEL_NHS_NUMBERS:
                return f"{prefix}{check}"
        raise ValueError("the 999 test range is exhausted (about 909,000 numbers)")


def _weighted(items: tuple[tuple[str, int], ...]) -> tuple[tuple[str, ...], list[int]]:
    return tuple(k for k, _ in items), list(accumulate(w for _, w in items))


class ResourceBuilder:
    """Builds the organisations, locations and per-patient resources of one feed."""

    def __init__(self, ctx: FeedContext, seed: int) -> None:
        ctx.validate()
        self.ctx = ctx
        self.rng = random.Random(f"mdss-samples:{seed}")
        self.nhs = NhsNumberAllocator(seed)
        self._ethnic_codes, self._ethnic_cum = _weighted(C.ETHNIC_WEIGHTS)
        classes = C.ENCOUNTER_CLASSES
        self._class_cum = list(accumulate(c[3] for c in classes))
        org_rng = random.Random(f"mdss-samples:{seed}:organisations")
        self.gp_codes: tuple[str, ...] = tuple(
            sorted(
                {
                    f"{org_rng.choice('BCDGHJKLMNPY')}{org_rng.randrange(80000, 90000):05d}"
                    for _ in range(6)
                }
            )
        )
        self._source = f"urn:x-mdss:source:{ctx.sender}"
        self._start = ctx.start_ts
        self._end = ctx.end_ts
        self._latest = ctx.extracted_ts - 3600  # nothing is updated in the last hour

    # -- helpers --------------------------------------------------------------------------

    def _id(self) -> str:
        return uuid4_from_bits(self.rng.getrandbits(128))

    def _meta(self, resource_type: str, event_ts: int, system: str, profiled: bool = True) -> Any:
        updated = min(event_ts + self.rng.randrange(300, 14400), self._latest)
        meta: dict[str, Any] = {"lastUpdated": iso_utc(max(updated, event_ts))}
        meta["source"] = f"{self._source}:{system}"
        if profiled:
            meta["profile"] = [f"{C.MDSS_PROFILE_BASE}{resource_type}"]
        return meta

    @staticmethod
    def org_id(code: str) -> str:
        return f"ods-{code}"

    def org_ref(self, code: str) -> Resource:
        return {
            "reference": f"Organization/{self.org_id(code)}",
            "identifier": {"system": ODS_ORGANIZATION_SYSTEM, "value": code},
        }

    def site_ref(self, code: str) -> Resource:
        return {
            "reference": f"Location/{self.org_id(code)}",
            "identifier": {"system": ODS_SITE_SYSTEM, "value": code},
        }

    # -- organisations and sites ------------------------------------------------------------

    def organisations(self) -> list[Record]:
        ctx = self.ctx
        orgs = [
            (ctx.sender, "Synthetic Teaching Hospitals NHS Trust", "prov", "Healthcare Provider"),
            (ctx.ics, "Synthetic Integrated Care Board", "govt", "Government"),
        ]
        orgs += [
            (gp, f"Synthetic Medical Practice {i + 1}", "prov", "Healthcare Provider")
            for i, gp in enumerate(self.gp_codes)
        ]
        out = []
        for code, name, type_code, type_display in orgs:
            res: Resource = {
                "resourceType": "Organization",
                "id": self.org_id(code),
                "meta": self._meta("Organization", self._start, "ods", profiled=False),
                "identifier": [{"system": ODS_ORGANIZATION_SYSTEM, "value": code}],
                "active": True,
                "type": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/organization-type",
                                "code": type_code,
                                "display": type_display,
                            }
                        ]
                    }
                ],
                "name": name,
            }
            out.append(Record("Organization", res))
        return out

    def locations(self) -> list[Record]:
        out = []
        for n, code in enumerate(self.ctx.site_codes, start=1):
            res: Resource = {
                "resourceType": "Location",
                "id": self.org_id(code),
                "meta": self._meta("Location", self._start, "ods", profiled=False),
                "identifier": [{"system": ODS_SITE_SYSTEM, "value": code}],
                "status": "active",
                "name": f"Synthetic Hospital Site {n}",
                "mode": "instance",
                "managingOrganization": self.org_ref(self.ctx.sender),
            }
            out.append(Record("Location", res))
        return out

    # -- one patient --------------------------------------------------------------------------

    def patient(self) -> PatientRecords:
        rng = self.rng
        pid = self._id()
        female = rng.random() < 0.51
        gender = "female" if female else "male"
        if rng.random() < 0.003:
            gender = "unknown"
        birth_ts = rng.randrange(_epoch(date(1928, 1, 1)), self._start - 86400 * 30)
        given = rng.choice(C.GIVEN_FEMALE if female else C.GIVEN_MALE)
        family = rng.choice(C.FAMILY)
        town, area = rng.choice(C.TOWNS)
        postcode = (
            f"{area}{rng.randrange(1, 30)} {rng.randrange(1, 10)}"
            f"{rng.choice(C.INWARD_LETTERS)}{rng.choice(C.INWARD_LETTERS)}"
        )
        ethnic = rng.choices(self._ethnic_codes, cum_weights=self._ethnic_cum)[0]
        gp = rng.choice(self.gp_codes)
        registered_ts = rng.randrange(self._start, self._end)

        patient: Resource = {
            "resourceType": "Patient",
            "id": pid,
            "meta": self._meta("Patient", registered_ts, "pas"),
            "extension": [
                {
                    "url": EXT_ETHNIC_CATEGORY,
                    "valueCodeableConcept": {
                        "coding": [
                            {
                                "system": CS_ETHNIC_CATEGORY_ENGLAND,
                                "code": ethnic,
                                "display": ETHNIC_CATEGORY_ENGLAND[ethnic],
                            }
                        ]
                    },
                }
            ],
        }
        nhs: str | None = None
        if rng.random() < NO_NHS_NUMBER_SHARE:
            reason = "overseas-patient"
            patient["extension"].append(
                {
                    "url": EXT_NHS_NUMBER_UNAVAILABLE_REASON,
                    "valueCodeableConcept": {
                        "coding": [
                            {
                                "system": CS_NHS_NUMBER_UNAVAILABLE_REASON,
                                "code": reason,
                                "display": NHS_NUMBER_UNAVAILABLE_REASON[reason],
                            }
                        ]
                    },
                }
            )
        else:
            nhs = self.nhs.allocate()
            patient["identifier"] = [
                {
                    "extension": [
                        {
                            "url": EXT_NHS_NUMBER_VERIFICATION_STATUS,
                            "valueCodeableConcept": {
                                "coding": [
                                    {
                                        "system": CS_NHS_NUMBER_VERIFICATION_STATUS_ENGLAND,
                                        "code": "01",
                                        "display": NHS_NUMBER_VERIFICATION_STATUS_ENGLAND["01"],
                                    }
                                ]
                            },
                        }
                    ],
                    "system": NHS_NUMBER_SYSTEM,
                    "value": nhs,
                }
            ]
        patient["name"] = [{"use": "official", "family": family, "given": [given]}]
        patient["telecom"] = [
            {"system": "phone", "value": f"07700 900{rng.randrange(1000):03d}", "use": "mobile"}
        ]
        patient["gender"] = gender
        patient["birthDate"] = _day(birth_ts)
        patient["address"] = [
            {
                "use": "home",
                "line": [f"{rng.randrange(1, 200)} {rng.choice(C.STREETS)}"],
                "city": town,
                "postalCode": postcode,
            }
        ]
        patient["generalPractitioner"] = [self.org_ref(gp)]

        out = PatientRecords(nhs, [Record("Patient", patient)])
        subject = {"reference": f"Patient/{pid}"}
        encounters = [self._encounter(subject) for _ in range(rng.randrange(1, 4))]
        out.records.extend(Record("Encounter", e[0]) for e in encounters)
        for enc, lo, hi in encounters:
            enc_ref = {"reference": f"Encounter/{enc['id']}"}
            out.records.extend(
                Record("Observation", o) for o in self._observations(subject, enc_ref, lo, hi)
            )
        birth_day = patient["birthDate"]
        for _ in range(rng.randrange(0, 5)):
            enc, lo, hi = rng.choice(encounters)
            out.records.append(
                Record("Condition", self._condition(subject, enc, lo, birth_ts, birth_day))
            )
        for _ in range(rng.randrange(0, 5)):
            enc, lo, hi = rng.choice(encounters)
            out.records.append(Record("MedicationRequest", self._medication(subject, enc, lo)))
        if rng.random() < PROM_PAIR_SHARE:
            first = min(lo for _, lo, _ in encounters)
            out.records.extend(self._prom_pair(subject, first))
        return out

    def _encounter(self, subject: Resource) -> tuple[Resource, int, int]:
        rng = self.rng
        klass = C.ENCOUNTER_CLASSES[
            rng.choices(range(len(C.ENCOUNTER_CLASSES)), cum_weights=self._class_cum)[0]
        ]
        code, display, (type_code, type_display), _w, (dlo, dhi) = klass
        start = rng.randrange(self._start, self._end - 1800)
        start -= start % 60
        end = start + 60 * rng.randrange(dlo, dhi + 1)
        finished = end <= self._latest
        reason = rng.choice(C.ENCOUNTER_REASONS)
        site = rng.choice(self.ctx.site_codes)
        period: Resource = {"start": iso_utc(start)}
        if finished:
            period["end"] = iso_utc(end)
        enc: Resource = {
            "resourceType": "Encounter",
            "id": self._id(),
            "meta": self._meta("Encounter", end if finished else start, "pas"),
            "status": "finished" if finished else "in-progress",
            "class": {"system": C.ACT_CODE_SYSTEM, "code": code, "display": display},
            "type": [
                {"coding": [{"system": SNOMED_SYSTEM, "code": type_code, "display": type_display}]}
            ],
            "subject": subject,
            "period": period,
            "reasonCode": [
                {"coding": [{"system": SNOMED_SYSTEM, "code": reason[0], "display": reason[1]}]}
            ],
            "location": [{"location": self.site_ref(site)}],
            "serviceProvider": self.org_ref(self.ctx.sender),
        }
        # Clinical events of this encounter fall in [start, hi].
        hi = min(end if finished else self._latest - 3600, start + 6 * 3600)
        return enc, start, max(hi, start)

    def _quantity(self, spec: tuple[Any, ...]) -> Resource:
        (ucum, unit), (lo, hi), decimals = spec
        value = round(self.rng.uniform(lo, hi), decimals)
        if decimals == 0:
            value = int(value)
        return {"value": value, "unit": unit, "system": UCUM_SYSTEM, "code": ucum}

    def _obs_base(self, ts: int, category: str) -> Resource:
        display = "Vital Signs" if category == "vital-signs" else "Laboratory"
        return {
            "resourceType": "Observation",
            "id": self._id(),
            "meta": self._meta("Observation", ts, "epr"),
            "status": "final",
            "category": [
                {
                    "coding": [
                        {"system": C.OBS_CATEGORY_SYSTEM, "code": category, "display": display}
                    ]
                }
            ],
        }

    def _observations(
        self, subject: Resource, enc_ref: Resource, lo: int, hi: int
    ) -> Iterator[Resource]:
        rng = self.rng
        ts = rng.randrange(lo, hi + 1)
        ts -= ts % 60
        effective = iso_utc(ts)
        specs = list(C.VITALS_CORE)
        specs.extend(s for s in C.OPTIONAL_OBS if rng.random() < C.OPTIONAL_OBS_P)
        for _key, category, (loinc, loinc_d), (sct, sct_d), *quantity in specs:
            obs = self._obs_base(ts, category)
            obs["code"] = {
                "coding": [
                    {"system": LOINC_SYSTEM, "code": loinc, "display": loinc_d},
                    {"system": SNOMED_SYSTEM, "code": sct, "display": sct_d},
                ]
            }
            obs["subject"] = subject
            obs["encounter"] = enc_ref
            obs["effectiveDateTime"] = effective
            obs["valueQuantity"] = self._quantity(tuple(quantity))
            if rng.random() < 0.1:
                obs["note"] = [{"text": rng.choice(C.OBS_NOTES)}]
            yield obs
        (loinc, loinc_d), (sct, sct_d), *components = C.BLOOD_PRESSURE
        obs = self._obs_base(ts, "vital-signs")
        obs["code"] = {
            "coding": [
                {"system": LOINC_SYSTEM, "code": loinc, "display": loinc_d},
                {"system": SNOMED_SYSTEM, "code": sct, "display": sct_d},
            ]
        }
        obs["subject"] = subject
        obs["encounter"] = enc_ref
        obs["effectiveDateTime"] = effective
        obs["component"] = [
            {
                "code": {
                    "coding": [
                        {"system": LOINC_SYSTEM, "code": c_loinc, "display": c_loinc_d},
                        {"system": SNOMED_SYSTEM, "code": c_sct, "display": c_sct_d},
                    ]
                },
                "valueQuantity": self._quantity((("mm[Hg]", "mmHg"), rng_range, 0)),
            }
            for (c_loinc, c_loinc_d), (c_sct, c_sct_d), rng_range in components
        ]
        yield obs

    def _condition(
        self, subject: Resource, enc: Resource, lo: int, birth_ts: int, birth_day: str
    ) -> Resource:
        rng = self.rng
        code, display = rng.choice(C.CONDITIONS)
        recorded = lo + 60 * rng.randrange(5, 120)
        recorded = min(recorded, self._latest)
        onset_ts = rng.randrange(birth_ts, lo) if lo > birth_ts else birth_ts
        clinical = rng.choices(("active", "recurrence", "resolved"), weights=(85, 5, 10))[0]
        verification = rng.choices(("confirmed", "provisional"), weights=(90, 10))[0]
        problem_list = rng.random() < 0.4
        category = "problem-list-item" if problem_list else "encounter-diagnosis"
        cond: Resource = {
            "resourceType": "Condition",
            "id": self._id(),
            "meta": self._meta("Condition", recorded, "epr"),
            "clinicalStatus": {
                "coding": [{"system": C.CONDITION_CLINICAL_SYSTEM, "code": clinical}]
            },
            "verificationStatus": {
                "coding": [{"system": C.CONDITION_VER_SYSTEM, "code": verification}]
            },
            "category": [{"coding": [{"system": C.CONDITION_CATEGORY_SYSTEM, "code": category}]}],
            "code": {"coding": [{"system": SNOMED_SYSTEM, "code": code, "display": display}]},
            "subject": subject,
            "encounter": {"reference": f"Encounter/{enc['id']}"},
            "onsetDateTime": max(_day(onset_ts), birth_day),
            "recordedDate": iso_utc(recorded),
        }
        if rng.random() < 0.15:
            cond["note"] = [{"text": rng.choice(C.CONDITION_NOTES)}]
        return cond

    def _medication(self, subject: Resource, enc: Resource, lo: int) -> Resource:
        rng = self.rng
        code, display, dosage = rng.choice(C.MEDICATIONS)
        authored = min(lo + 60 * rng.randrange(10, 240), self._latest)
        return {
            "resourceType": "MedicationRequest",
            "id": self._id(),
            "meta": self._meta("MedicationRequest", authored, "eprescribing"),
            "status": rng.choices(("active", "completed"), weights=(80, 20))[0],
            "intent": "order",
            "medicationCodeableConcept": {
                "coding": [{"system": DMD_SYSTEM, "code": code, "display": display}]
            },
            "subject": subject,
            "encounter": {"reference": f"Encounter/{enc['id']}"},
            "authoredOn": iso_utc(authored),
            "dosageInstruction": [{"text": dosage}],
        }

    def _prom(self, subject: Resource, ts: int, timepoint: str) -> Resource:
        rng = self.rng
        items: list[Resource] = [
            {
                "linkId": "timepoint",
                "answer": [
                    {
                        "valueCoding": {
                            "system": C.PROM_TIMEPOINT_SYSTEM,
                            "code": timepoint,
                        }
                    }
                ],
            },
            {"linkId": "overall-health", "answer": [{"valueInteger": rng.randrange(20, 101)}]},
        ]
        items.extend(
            {"linkId": key, "answer": [{"valueInteger": rng.randrange(1, 6)}]}
            for key in ("mobility", "self-care", "usual-activities", "pain", "anxiety")
        )
        return {
            "resourceType": "QuestionnaireResponse",
            "id": self._id(),
            "meta": self._meta("QuestionnaireResponse", ts, "proms"),
            "questionnaire": C.PROM_QUESTIONNAIRE,
            "status": "completed",
            "subject": subject,
            "authored": iso_utc(ts),
            "item": items,
        }

    def _prom_pair(self, subject: Resource, first: int) -> list[Record]:
        rng = self.rng
        baseline = first + 60 * rng.randrange(5, 60)
        baseline = min(baseline, self._latest - 7200)
        room = self._latest - 3600 - baseline
        follow = baseline + max(3600, min(room, 86400 * rng.randrange(7, 22)))
        follow = min(follow, self._latest)
        return [
            Record("QuestionnaireResponse", self._prom(subject, baseline, "baseline"), "baseline"),
            Record("QuestionnaireResponse", self._prom(subject, follow, "follow-up"), "follow-up"),
        ]

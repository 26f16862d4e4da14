"""Run chosen MDSS requirements over small in-memory feeds, and split/merge check states."""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

from conformance.checks.base import Check, CompileEnv, FinishContext, Measure, RunContext
from conformance.checks.registry import check_factories
from conformance.engine.run import validate
from conformance.feed import FeedInfo
from conformance.findings import Location, Problem
from conformance.plugin.manager import build_plugins
from conformance.readers.base import Record
from conformance.standards.model import Standard
from conformance.standards.registry import StandardRegistry

PATIENT_ID = "pat-1"
MANIFEST_FEED: dict[str, Any] = {
    "id": "t",
    "ics": "QWO",
    "sender": "RXX",
    "period": {"start": "2026-11-01", "end": "2026-11-30"},
    "extracted": "2026-12-01T03:00:00Z",
    "environment": "test",
}


@functools.cache
def mdss() -> Standard:
    """MDSS 1.0.0, loaded once (YAML parsing is most of a small run's time)."""
    return StandardRegistry.default().resolve("mdss@1.0.0")


def subset_standard(folder: Path, only: Iterable[str]) -> Path:
    """A copy of MDSS 1.0.0 keeping only the requirements ``only`` (and its data items)."""
    wanted = set(only)
    text = mdss().path.joinpath("standard.yaml").read_text()
    head, _, reqs = text.partition("\nrequirements:")
    blocks = reqs.split("\n  - id: ")
    kept = [b for b in blocks[1:] if b.split("\n", 1)[0].strip() in wanted]
    assert len(kept) == len(wanted), f"unknown requirement among {sorted(wanted)}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "standard.yaml").write_text(
        head.replace("id: mdss\n", "id: mdss-sub\n")
        + "\nrequirements:\n"
        + "".join("  - id: " + b.rstrip() + "\n" for b in kept)
    )
    return folder


def run(
    tmp_path: Path,
    resources: Sequence[dict[str, Any]],
    only: str | Sequence[str],
    feed: dict[str, Any] | None = MANIFEST_FEED,
) -> dict[str, Any]:
    """Write one NDJSON file per resource type (in the order first seen) and validate.

    Returns the scorecard with ``req`` (the first requirement's result) and ``found``
    (its findings as (code, file, line, expression) tuples) added.
    """
    ids = [only] if isinstance(only, str) else list(only)
    root = tmp_path / "feed"
    root.mkdir(parents=True, exist_ok=True)
    by_type: dict[str, list[bytes]] = {}
    for resource in resources:
        by_type.setdefault(resource["resourceType"], []).append(orjson.dumps(resource))
    for rtype, lines in by_type.items():
        (root / f"{rtype}.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    if feed is not None:
        (root / "manifest.json").write_bytes(
            orjson.dumps({"feed": feed, "files": []}, option=orjson.OPT_INDENT_2)
        )
    standard = subset_standard(tmp_path / "std", ids)
    card: dict[str, Any] = validate([root], standard, jobs=1).data
    card["req"] = next(r for r in card["requirements"] if r["id"] == ids[0])
    card["found"] = [
        (
            f["code"],
            Path(f["location"].get("file", "")).name,
            f["location"].get("line"),
            f["location"].get("expression"),
        )
        for f in card["findings"]
        if f["requirement"] == ids[0]
    ]
    return card


def codes(card: dict[str, Any]) -> list[str]:
    return [f[0] for f in card["found"]]


def ratio(card: dict[str, Any]) -> tuple[int, int]:
    return card["req"]["numerator"], card["req"]["denominator"]


# ----------------------------------------------------------------- direct check use


def compile_check(requirement_id: str) -> Check:
    standard = mdss()
    req = standard.requirement(requirement_id)
    factory = check_factories(build_plugins())[req.check.type]
    check: Check = factory(req, req.check.params, CompileEnv(standard))
    return check


def context(**feed: Any) -> RunContext:
    return RunContext(FeedInfo(**feed), mdss())


def finish_context(ctx: RunContext) -> FinishContext:
    """``ctx`` as the finish context the engine gives checks (nothing read besides)."""
    if isinstance(ctx, FinishContext):
        return ctx
    return FinishContext(ctx.feed, ctx.standard, ctx.history)


def records(resources: Sequence[dict[str, Any]], file: str = "feed.ndjson") -> list[Record]:
    return [Record(copy.deepcopy(r), Location(file, line)) for line, r in enumerate(resources, 1)]


Emitted = list[tuple[str, Location]]


def play(
    check: Check, parts: Sequence[Sequence[Record]], ctx: RunContext
) -> tuple[Measure, Emitted]:
    """Visit each part with its own state, merge the states in order, finish."""
    found: Emitted = []

    def emit(
        problem: Problem,
        location: Location,
        resource_type: str | None = None,
        resource_id: str | None = None,
    ) -> None:
        found.append((problem.code, location))

    states = []
    for part in parts:
        state = check.start(ctx)
        for record in part:
            if check.applies_to is None or record.resource_type in check.applies_to:
                check.visit(state, record, emit)
        states.append(state)
    state = states[0]
    for other in states[1:]:
        state = check.merge(state, other)
    # finish() takes a FinishContext, as the engine gives (the compiled build checks it)
    measure = check.finish(state, finish_context(ctx), emit)
    return measure, sorted(found, key=lambda f: (f[1].line or 0, f[0], f[1].expression or ""))


def assert_merge_exact(check: Check, resources: Sequence[dict[str, Any]], ctx: RunContext) -> None:
    """Every split of the feed in two, merged, gives the single state's result."""
    recs = records(resources)
    whole = play(check, [recs], ctx)
    for cut in range(1, len(recs)):
        assert play(check, [recs[:cut], recs[cut:]], ctx) == whole, f"split at {cut}"


# ------------------------------------------------------------------------- resources

ODS_ORG = "https://fhir.nhs.uk/Id/ods-organization-code"
ODS_SITE = "https://fhir.nhs.uk/Id/ods-site-code"
SCT = "http://snomed.info/sct"
META = {"lastUpdated": "2026-11-20T10:00:00Z"}
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


def _with(resource: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    for key, value in changes.items():
        if value is None:
            resource.pop(key, None)
        else:
            resource[key] = value
    return resource


def patient(rid: str = PATIENT_ID, **changes: Any) -> dict[str, Any]:
    return _with(
        {
            "resourceType": "Patient",
            "id": rid,
            "meta": dict(META),
            "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990000018"}],
            "name": [{"family": "Testpatient", "given": ["Alex"]}],
            "telecom": [{"system": "phone", "value": "07700 900123"}],
            "gender": "female",
            "birthDate": "1980-02-03",
            "address": [{"postalCode": "LS1 4AP"}],
            "extension": [
                {
                    "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory",
                    "valueCodeableConcept": {
                        "coding": [
                            {
                                "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland",
                                "code": "A",
                            }
                        ]
                    },
                }
            ],
            "generalPractitioner": [
                {
                    "reference": "Organization/gp",
                    "identifier": {"system": ODS_ORG, "value": "B86022"},
                }
            ],
        },
        changes,
    )


def organization(rid: str, code: str | None, system: str = ODS_ORG) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Organization", "id": rid, "meta": dict(META)}
    if code is not None:
        resource["identifier"] = [{"system": system, "value": code}]
    return resource


def location(rid: str, code: str | None, system: str = ODS_SITE) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Location", "id": rid, "meta": dict(META)}
    if code is not None:
        resource["identifier"] = [{"system": system, "value": code}]
    return resource


def encounter(rid: str = "enc-1", **changes: Any) -> dict[str, Any]:
    return _with(
        {
            "resourceType": "Encounter",
            "id": rid,
            "meta": dict(META),
            "status": "finished",
            "class": {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": "IMP",
            },
            "type": [{"coding": [{"system": SCT, "code": "32485007"}]}],
            "subject": {"reference": f"Patient/{PATIENT_ID}"},
            "period": {"start": "2026-11-19T07:30:00Z", "end": "2026-11-24T03:57:00Z"},
            "reasonCode": [{"coding": [{"system": SCT, "code": "267036007"}]}],
            "location": [
                {
                    "location": {
                        "reference": "Location/site-1",
                        "identifier": {"system": ODS_SITE, "value": "RXX01"},
                    }
                }
            ],
            "serviceProvider": {
                "reference": "Organization/trust",
                "identifier": {"system": ODS_ORG, "value": "RXX"},
            },
        },
        changes,
    )


def observation(rid: str = "obs-1", **changes: Any) -> dict[str, Any]:
    return _with(
        {
            "resourceType": "Observation",
            "id": rid,
            "meta": dict(META),
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": OBS_CATEGORY,
                            "code": "vital-signs",
                        }
                    ]
                }
            ],
            "code": {"coding": [{"system": SCT, "code": "364075005"}]},
            "subject": {"reference": f"Patient/{PATIENT_ID}"},
            "encounter": {"reference": "Encounter/enc-1"},
            "effectiveDateTime": "2026-11-19T11:21:00Z",
            "valueQuantity": {
                "value": 80,
                "unit": "/min",
                "system": "http://unitsofmeasure.org",
                "code": "/min",
            },
        },
        changes,
    )


def condition(rid: str = "cond-1", **changes: Any) -> dict[str, Any]:
    return _with(
        {
            "resourceType": "Condition",
            "id": rid,
            "meta": dict(META),
            "clinicalStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "code": "active",
                    }
                ]
            },
            "verificationStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                        "code": "confirmed",
                    }
                ]
            },
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                            "code": "problem-list-item",
                        }
                    ]
                }
            ],
            "code": {"coding": [{"system": SCT, "code": "195967001"}]},
            "subject": {"reference": f"Patient/{PATIENT_ID}"},
            "encounter": {"reference": "Encounter/enc-1"},
            "onsetDateTime": "2022-07-05",
            "recordedDate": "2026-11-19T16:09:00Z",
        },
        changes,
    )


def medication_request(rid: str = "med-1", **changes: Any) -> dict[str, Any]:
    return _with(
        {
            "resourceType": "MedicationRequest",
            "id": rid,
            "meta": dict(META),
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": {
                "coding": [{"system": "https://dmd.nhs.uk", "code": "22608811000001102"}]
            },
            "subject": {"reference": f"Patient/{PATIENT_ID}"},
            "authoredOn": "2026-11-19T10:01:00Z",
            "dosageInstruction": [{"text": "One each morning"}],
        },
        changes,
    )


def response(
    rid: str = "qr-1", authored: str = "2026-11-10T06:00:00Z", **changes: Any
) -> dict[str, Any]:
    return _with(
        {
            "resourceType": "QuestionnaireResponse",
            "id": rid,
            "meta": dict(META),
            "questionnaire": "https://w3id.org/mdss/Questionnaire/prom-general-health|1.0.0",
            "status": "completed",
            "subject": {"reference": f"Patient/{PATIENT_ID}"},
            "authored": authored,
            "item": [{"linkId": "overall-health", "answer": [{"valueInteger": 76}]}],
        },
        changes,
    )

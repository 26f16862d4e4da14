"""An independent re-detection of every injectable defect, for checking the generator.

Given a generated feed, ``detect`` lists (requirement id, file, line) for every record that
breaks a requirement, using plain rules written separately from the injector. The tests
compare it with what the generator says it injected: the two must agree exactly.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from conformance.nhs import (
    DMD_SYSTEM,
    NHS_NUMBER_SYSTEM,
    ODS_MISSPELT_SYSTEMS,
    ODS_ORGANIZATION_SYSTEM,
    ODS_SITE_SYSTEM,
    SNOMED_SYSTEM,
    is_sentinel_nhs_number,
    nhs_number_check_digit_ok,
    ods_code_problem,
    postcode_problem,
    sctid_problem,
)
from conformance.nhs.ukcore import (
    ETHNIC_CATEGORY_DEFAULT_CODES,
    EXT_ETHNIC_CATEGORY,
    EXT_NHS_NUMBER_UNAVAILABLE_REASON,
    EXT_NHS_NUMBER_VERIFICATION_STATUS,
)

Finding = tuple[str, str, int | None]
PROFILED = {
    "Patient",
    "Encounter",
    "Observation",
    "Condition",
    "MedicationRequest",
    "QuestionnaireResponse",
}
CLINICAL_STATUS = {"active", "recurrence", "relapse", "inactive", "remission", "resolved"}
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
GENDERS = {"male", "female", "other", "unknown"}
DATETIME_KEYS = {
    "effectiveDateTime",
    "recordedDate",
    "authoredOn",
    "authored",
    "onsetDateTime",
    "lastUpdated",
    "start",
    "end",
    "birthDate",
}
SCHEMA = Path(__file__).parents[2] / "standards/mdss/1.0.0/tables/sitrep-discharge.schema.json"


def _parse_time(value: str) -> datetime:
    if len(value) == 10:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _identifiers(node: Any) -> Iterator[dict[str, Any]]:
    for key, value in _walk(node):
        if key == "identifier":
            yield from value if isinstance(value, list) else [value]


def iter_records(root: Path, manifest: dict[str, Any]) -> Iterator[tuple[str, int, bytes]]:
    for entry in manifest["files"]:
        if "type" not in entry:
            continue
        data = (root / entry["path"]).read_bytes()
        if entry["path"].endswith(".gz"):
            import gzip

            data = gzip.decompress(data)
        for number, line in enumerate(data.splitlines(), start=1):
            yield entry["path"], number, line


def _base_invalid(res: dict[str, Any]) -> bool:
    try:
        get_fhir_model_class(res["resourceType"]).model_validate(res)
    except ValidationError:
        return True
    return res["resourceType"] == "Patient" and res.get("gender", "male") not in GENDERS


def _record_findings(
    res: dict[str, Any], ids: set[str], extracted: datetime, seen_nhs: set[str], base: bool
) -> Iterator[str]:
    kind = res["resourceType"]
    meta = res.get("meta", {})
    if "lastUpdated" not in meta:
        yield "MDSS-TIME-01"
    if "source" not in meta:
        yield "MDSS-PROV-03"
    if kind in PROFILED and "profile" not in meta:
        yield "MDSS-STR-04"
    if base and _base_invalid(res):
        yield "MDSS-STR-02"
    for ident in _identifiers(res):
        if ident.get("system") in ODS_MISSPELT_SYSTEMS:
            yield "MDSS-ORG-01"
            break
    for key, value in _walk(res):
        if key == "reference" and isinstance(value, str) and value not in ids:
            yield "MDSS-REF-01"
            break
    times = [_parse_time(v) for k, v in _walk(res) if k in DATETIME_KEYS and isinstance(v, str)]
    late = any(t > extracted for t in times)
    period = res.get("period")
    if late or (period and "end" in period and period["end"] < period["start"]):
        yield "MDSS-TIME-02"
    for key, value in _walk(res):
        if key == "coding":
            for coding in value:
                if coding.get("system") == SNOMED_SYSTEM and sctid_problem(coding["code"]):
                    yield "MDSS-TERM-01"
                    break

    if kind == "Patient":
        exts = {e["url"]: e for e in res.get("extension", [])}
        nhs = [i for i in res.get("identifier", []) if i.get("system") == NHS_NUMBER_SYSTEM]
        if not nhs and EXT_NHS_NUMBER_UNAVAILABLE_REASON not in exts:
            yield "MDSS-ID-01"
        for ident in nhs:
            value = ident["value"]
            if not nhs_number_check_digit_ok(value):
                yield "MDSS-ID-02"
            elif is_sentinel_nhs_number(value):
                yield "MDSS-ID-03"
            elif value in seen_nhs:
                yield "MDSS-ID-08"
            else:
                seen_nhs.add(value)
            urls = {e["url"] for e in ident.get("extension", [])}
            if EXT_NHS_NUMBER_VERIFICATION_STATUS not in urls:
                yield "MDSS-ID-04"
        if "birthDate" not in res or "gender" not in res:
            yield "MDSS-ID-05"
        ethnic = exts.get(EXT_ETHNIC_CATEGORY)
        if ethnic is None or (
            ethnic["valueCodeableConcept"]["coding"][0]["code"] in ETHNIC_CATEGORY_DEFAULT_CODES
        ):
            yield "MDSS-ID-06"
        for address in res.get("address", []):
            if "postalCode" in address and postcode_problem(address["postalCode"]):
                yield "MDSS-ID-07"
        gps = res.get("generalPractitioner", [])
        if not gps:
            yield "MDSS-ORG-05"
        for gp in gps:
            if ods_code_problem(gp["identifier"]["value"], "gp-practice"):
                yield "MDSS-ORG-02"
        if not any(k in res for k in ("name", "telecom", "address")):
            yield "MDSS-COMP-01"
    elif kind == "Encounter":
        provider = res.get("serviceProvider")
        locations = res.get("location", [])
        if provider is None:
            yield "MDSS-ORG-03"
        if not locations:
            yield "MDSS-ORG-04"
        bad_provider = provider is not None and ods_code_problem(
            provider["identifier"]["value"], "trust"
        )
        bad_site = any(
            loc["location"]["identifier"]["system"] == ODS_SITE_SYSTEM
            and ods_code_problem(loc["location"]["identifier"]["value"], "site")
            for loc in locations
        )
        if bad_provider or bad_site:
            yield "MDSS-ORG-02"
        if "type" not in res and "reasonCode" not in res:
            yield "MDSS-COMP-02"
    elif kind == "Organization":
        for ident in res["identifier"]:
            if ident["system"] == ODS_ORGANIZATION_SYSTEM and ods_code_problem(
                ident["value"], "organisation"
            ):
                yield "MDSS-ORG-02"
    if kind in ("Condition", "Observation"):
        codings = res.get("code", {}).get("coding", [])
        if not any(c.get("system") == SNOMED_SYSTEM for c in codings):
            yield "MDSS-TERM-04"
        if "encounter" not in res:
            yield "MDSS-REF-03"
    if kind == "Condition":
        if res["clinicalStatus"]["coding"][0]["code"] not in CLINICAL_STATUS:
            yield "MDSS-TERM-02"
        for category in res.get("category", []):
            systems = {c.get("system") for c in category.get("coding", [])}
            if CONDITION_CATEGORY not in systems and "text" not in category:
                yield "MDSS-TERM-03"
    if kind == "Observation":
        if "subject" not in res:
            yield "MDSS-REF-02"
        if not any(k.startswith("effective") for k in res):
            yield "MDSS-STR-03"
    if kind == "MedicationRequest":
        codings = res["medicationCodeableConcept"].get("coding", [])
        if not any(c.get("system") == DMD_SYSTEM for c in codings):
            yield "MDSS-TERM-05"
    if kind == "QuestionnaireResponse" and res["status"] != "completed":
        yield "MDSS-OUT-01"


def detect(root: Path, *, base: bool = True) -> set[Finding]:
    """Every (requirement, file, line) the feed at ``root`` breaks, by independent rules.

    ``base=False`` skips the (slow) fhir.resources check behind MDSS-STR-02.
    """
    text = (root / "manifest.json").read_text(encoding="utf-8")
    manifest = json.loads(text)
    feed = manifest["feed"]
    lines = text.splitlines()
    found: set[Finding] = set()

    def manifest_line(needle: str) -> int:
        return next(i for i, line in enumerate(lines, start=1) if needle in line)

    extracted = _parse_time(feed["extracted"])
    period_end = date.fromisoformat(feed["period"]["end"])
    period_start = date.fromisoformat(feed["period"]["start"])
    if "id" not in feed:
        found.add(("MDSS-PROV-01", "manifest.json", manifest_line('"feed": {')))
    end_of_period = datetime.combine(period_end + timedelta(days=1), datetime.min.time(), UTC)
    if extracted - end_of_period > timedelta(hours=24):
        found.add(("MDSS-TIME-03", "manifest.json", manifest_line('"extracted":')))
    for entry in manifest["files"]:
        digest = hashlib.sha256((root / entry["path"]).read_bytes()).hexdigest()
        if digest != entry["sha256"]:
            found.add(("MDSS-PROV-02", entry["path"], None))
        if re.search(r"\d{10}", entry["path"]):
            found.add(("MDSS-SEC-01", "manifest.json", manifest_line(f'"path": "{entry["path"]}"')))

    parsed: list[tuple[str, int, dict[str, Any]]] = []
    for path, number, line in iter_records(root, manifest):
        try:
            parsed.append((path, number, orjson.loads(line)))
        except orjson.JSONDecodeError:
            found.add(("MDSS-STR-01", path, number))
    ids = {f"{res['resourceType']}/{res['id']}" for _, _, res in parsed}
    seen_nhs: set[str] = set()
    follow_ups = {
        res["subject"]["reference"]
        for _, _, res in parsed
        if res["resourceType"] == "QuestionnaireResponse"
        and res["item"][0]["answer"][0]["valueCoding"]["code"] == "follow-up"
    }
    for path, number, res in parsed:
        for req in _record_findings(res, ids, extracted, seen_nhs, base):
            found.add((req, path, number))
        if res["resourceType"] == "QuestionnaireResponse":
            timepoint = res["item"][0]["answer"][0]["valueCoding"]["code"]
            if timepoint == "baseline" and res["subject"]["reference"] not in follow_ups:
                found.add(("MDSS-OUT-02", path, number))

    table = next((e for e in manifest["files"] if e.get("table")), None)
    if table is not None:
        found |= _table_findings(root / table["path"], table["path"], period_start, period_end)
    return found


def _table_findings(path: Path, name: str, start: date, end: date) -> set[Finding]:
    from jsonschema import Draft202012Validator

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema)
    types = {k: v["type"] for k, v in schema["properties"].items()}
    out: set[Finding] = set()
    with path.open(newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            typed: dict[str, Any] = {}
            for key, value in row.items():
                if types[key] == "integer" and re.fullmatch(r"-?\d+", value):
                    typed[key] = int(value)
                else:
                    typed[key] = value
            if not validator.is_valid(typed):
                out.add(("MDSS-TAB-01", name, number))
            elif not start <= date.fromisoformat(row["date"]) <= end:
                out.add(("MDSS-TAB-02", name, number))
    return out

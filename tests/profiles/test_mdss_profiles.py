"""The MDSS FHIR profiles (standards/mdss/1.0.0/profiles) and the UK Core content they ship."""

from __future__ import annotations

import copy
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

import conformance
from conformance.fhir import DefinitionSet, FhirIssue, FhirValidator
from conformance.fhir.profiles import CORE_SD
from conformance.samples import generate_feed, iter_resources

REPO = Path(__file__).resolve().parents[2]
STANDARD = REPO / "standards" / "mdss" / "1.0.0"
FIXTURES = REPO / "tests" / "fixtures"  # holds ukcore/, as ../shared does
MDSS = "https://w3id.org/mdss/StructureDefinition/MDSS-"
UKCORE = "https://fhir.hl7.org.uk/"
TYPES = (
    "Patient",
    "Encounter",
    "Observation",
    "Condition",
    "MedicationRequest",
    "QuestionnaireResponse",
)
NHS_UNAVAILABLE = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberUnavailableReason"
)


@pytest.fixture(scope="module")
def definitions() -> DefinitionSet:
    return DefinitionSet.load([STANDARD / "profiles", STANDARD / "terminology"])


@pytest.fixture(scope="module")
def validator(definitions: DefinitionSet) -> FhirValidator:
    return FhirValidator.base().with_definitions(definitions)


@pytest.fixture(scope="module")
def clean() -> dict[str, dict[str, Any]]:
    """One defect-free generated resource per profiled type."""
    out: dict[str, dict[str, Any]] = {}
    for r in iter_resources(patients=3, seed=5):
        if r["resourceType"] in TYPES and r["resourceType"] not in out:
            if r["resourceType"] == "Patient" and "identifier" not in r:
                continue
            out[r["resourceType"]] = r
    assert set(out) == set(TYPES)
    return out


def profile_issues(v: FhirValidator, res: dict[str, Any]) -> list[FhirIssue]:
    """Issues STR-03 counts: everything not from base R4 or a core profile."""
    issues = v.validate(res, (MDSS + res["resourceType"],))
    return [i for i in issues if i.source != "base" and not i.source.startswith(CORE_SD)]


def _sd(rtype: str) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((STANDARD / "profiles" / f"MDSS-{rtype}.json").read_bytes())
    return data


# ------------------------------------------------------------------------- the definitions


@pytest.mark.parametrize("rtype", TYPES)
def test_profile_metadata(rtype: str) -> None:
    sd = _sd(rtype)
    assert sd["url"] == MDSS + rtype
    assert (sd["version"], sd["status"], sd["derivation"], sd["type"]) == (
        "1.0.0",
        "active",
        "constraint",
        rtype,
    )
    if rtype == "MedicationRequest":  # UK Core's substitution 1..1 (see the tool)
        assert sd["baseDefinition"] == CORE_SD + rtype and "substitution" in sd["purpose"]
    else:
        assert sd["baseDefinition"] == f"{UKCORE}StructureDefinition/UKCore-{rtype}"


def _refs(r: dict[str, Any]) -> Iterator[str]:
    if r["resourceType"] == "StructureDefinition":
        yield r["baseDefinition"]
        for part in ("snapshot", "differential"):
            for e in (r.get(part) or {}).get("element", []):
                for t in e.get("type", ()):
                    yield from t.get("profile", ())
                b = e.get("binding") or {}
                if b.get("strength") in ("required", "extensible") and "valueSet" in b:
                    yield b["valueSet"]
    elif r["resourceType"] == "ValueSet":
        for inc in (r.get("compose") or {}).get("include", ()):
            yield from inc.get("valueSet", ())
            if "system" in inc:
                yield inc["system"]


def test_shipped_closure_is_complete_and_minimal(definitions: DefinitionSet) -> None:
    files = sorted(STANDARD.glob("*/ukcore/*"))
    assert files and all(f.suffix == ".json" for f in files)
    shipped = {orjson.loads(f.read_bytes())["url"] for f in files}
    roots = [_sd(t) for t in TYPES]
    needed: set[str] = set()
    todo = list(roots)
    known = {
        **definitions.structure_definitions,
        **definitions.valuesets,
        **definitions.codesystems,
    }
    while todo:
        for ref in _refs(todo.pop()):
            url = ref.split("|")[0]
            if (url.startswith(UKCORE) or url in known) and url not in needed:
                needed.add(url)
                if url in known:
                    todo.append(known[url])
    # every UK Core profile, extension, value set and code system needed is shipped, and
    # nothing else is; UK Core code systems referenced but not published are the only gap
    missing = {u for u in needed - shipped if "/CodeSystem/" not in u}
    assert missing == set()
    assert shipped <= needed
    assert not any(u.startswith(MDSS) for u in needed)  # no cycles back into MDSS


@pytest.mark.parametrize("rtype", TYPES)
def test_profiles_compile(validator: FhirValidator, rtype: str) -> None:
    prof = validator.registry.compiled(MDSS + rtype)
    assert prof is not None and prof.type == rtype


def _comp02_elements() -> dict[str, list[str]]:
    data = yaml.safe_load((STANDARD / "standard.yaml").read_text(encoding="utf-8"))
    req = next(r for r in data["requirements"] if r["id"] == "MDSS-COMP-02")
    elements: dict[str, list[str]] = req["check"]["elements"]
    return elements


def test_must_support_matches_comp02(validator: FhirValidator) -> None:
    listed = _comp02_elements()
    assert sorted(listed) == sorted(TYPES)
    for rtype, elements in listed.items():
        own = validator.must_support_paths(MDSS + rtype, inherited=False)
        assert [p.split(".", 1)[1] for p in own] == elements, rtype
        # the UK Core flags are inherited on top of them
        assert set(own) <= set(validator.must_support_paths(MDSS + rtype))


def test_shipped_files_are_up_to_date() -> None:
    """The shipped profiles and UK Core files are what the tool makes from the UK Core
    source (tests/fixtures/ukcore: the 72 XML files of the closure, copied unchanged)."""
    path = REPO / "tools" / "build_mdss_profiles.py"
    spec = importlib.util.spec_from_file_location("build_mdss_profiles", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_mdss_profiles", module)
    spec.loader.exec_module(module)
    assert module.main(["--check", "--shared", str(FIXTURES)]) == 0


# --------------------------------------------------------------------------- the rules


def test_clean_resources_conform(validator: FhirValidator, clean: dict[str, Any]) -> None:
    for res in clean.values():
        assert profile_issues(validator, res) == [], res["resourceType"]


@pytest.mark.parametrize(
    ("rtype", "key", "expression"),
    [
        ("Patient", "gender", "Patient.gender"),
        ("Patient", "birthDate", "Patient.birthDate"),
        ("Encounter", "subject", "Encounter.subject"),
        ("Encounter", "period", "Encounter.period"),
        ("Encounter", "serviceProvider", "Encounter.serviceProvider"),
        ("Observation", "effectiveDateTime", "Observation.effective[x]"),
        ("Observation", "subject", "Observation.subject"),
        ("QuestionnaireResponse", "questionnaire", "QuestionnaireResponse.questionnaire"),
        ("QuestionnaireResponse", "subject", "QuestionnaireResponse.subject"),
        ("QuestionnaireResponse", "authored", "QuestionnaireResponse.authored"),
    ],
)
def test_required_elements(
    validator: FhirValidator, clean: dict[str, Any], rtype: str, key: str, expression: str
) -> None:
    res = copy.deepcopy(clean[rtype])
    del res[key]
    found = profile_issues(validator, res)
    assert [(i.severity, i.code, i.expression, i.source) for i in found] == [
        ("error", "cardinality-min", expression, MDSS + rtype)
    ]


@pytest.mark.parametrize(
    ("rtype", "key"),
    [
        ("Condition", "code"),
        ("MedicationRequest", "medicationCodeableConcept"),
        ("Condition", "subject"),
    ],
)
def test_required_by_base_too(
    validator: FhirValidator, clean: dict[str, Any], rtype: str, key: str
) -> None:
    """Elements R4 already requires are reported once, by the base check (STR-02)."""
    res = copy.deepcopy(clean[rtype])
    del res[key]
    issues = validator.validate(res, (MDSS + rtype,))
    if key != "code":
        assert [i.code for i in issues if i.source == "base" and i.severity == "error"] == [
            "cardinality-min"
        ]
    assert not [i for i in profile_issues(validator, res) if i.severity == "error"] or (
        key == "code"
    )


def test_condition_code_required(validator: FhirValidator, clean: dict[str, Any]) -> None:
    res = copy.deepcopy(clean["Condition"])
    del res["code"]
    found = profile_issues(validator, res)
    assert [(i.code, i.expression) for i in found] == [("cardinality-min", "Condition.code")]


def test_nhs_number_or_reason(validator: FhirValidator, clean: dict[str, Any]) -> None:
    res = copy.deepcopy(clean["Patient"])
    del res["identifier"]
    found = profile_issues(validator, res)
    assert [(i.code, i.key, i.expression) for i in found] == [
        ("invariant", "mdss-pat-1", "Patient")
    ]
    res["extension"].append(
        {
            "url": NHS_UNAVAILABLE,
            "valueCodeableConcept": {
                "coding": [
                    {
                        "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberUnavailableReason",
                        "code": "overseas-patient",
                    }
                ]
            },
        }
    )
    assert profile_issues(validator, res) == []
    # a local identifier is not an NHS Number
    res["extension"].pop()
    res["identifier"] = [{"system": "https://example.org/mrn", "value": "X1"}]
    assert [i.key for i in profile_issues(validator, res)] == ["mdss-pat-1"]


def test_nhs_number_slice_and_extensions(validator: FhirValidator, clean: dict[str, Any]) -> None:
    res = copy.deepcopy(clean["Patient"])
    res["identifier"].append(copy.deepcopy(res["identifier"][0]))  # UK Core: nhsNumber 0..1
    found = profile_issues(validator, res)
    assert [(i.code, i.expression) for i in found] == [("slice-cardinality", "Patient.identifier")]
    res = copy.deepcopy(clean["Patient"])
    coding = res["extension"][0]["valueCodeableConcept"]["coding"][0]
    coding["code"] = "QQ"  # not an England ethnic category: the extension's binding
    found = profile_issues(validator, res)
    assert found and all(i.code.startswith("binding") for i in found)


# ----------------------------------------------------------------------- feeds end to end


def _records(folder: Path) -> Iterator[tuple[str, int, dict[str, Any]]]:
    for f in sorted(folder.glob("*.ndjson")):
        for n, line in enumerate(f.read_bytes().splitlines(), start=1):
            yield f.name, n, orjson.loads(line)


def test_conformant_sample_feed_has_no_profile_issue(validator: FhirValidator) -> None:
    seen = 0
    for name, n, res in _records(REPO / "sample_feeds" / "qwo-conformant"):
        if res["resourceType"] in TYPES:
            seen += 1
            assert profile_issues(validator, res) == [], (name, n)
    assert seen > 1000


def test_str03_defects_are_found_where_injected(tmp_path: Path) -> None:
    feed = generate_feed(tmp_path / "feed", patients=30, seed=11, defects={"MDSS-STR-03": 0.1})
    injected = {(d.file, d.line) for d in feed.injected if d.requirement_id == "MDSS-STR-03"}
    assert len(injected) >= 5
    card = conformance.validate([feed.root], standard="mdss@1.0.0", jobs=1)
    found = {
        (Path(f.location.file or "").name, f.location.line)
        for f in card.findings
        if f.requirement == "MDSS-STR-03"
    }
    assert found == injected
    req = next(r for r in card.data["requirements"] if r["id"] == "MDSS-STR-03")
    assert req["status"] != "pass"

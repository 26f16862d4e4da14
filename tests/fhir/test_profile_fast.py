"""The compiled profile pre-check (``_profile_fast``) changes no result.

Every resource is validated twice with the MDSS profiles (which pull in UK Core and, for
vital signs, the core R4 profiles): once as shipped, once with the pre-check disabled so the
full profile walk always runs. The issue lists must be identical, on valid resources,
on the generator's defective ones and on randomly mutated copies.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import orjson
import pytest
from fhir_helpers import EXAMPLES, FIXTURES

from conformance.fhir import DefinitionSet, FhirValidator, parse_fhir_xml
from conformance.fhir.profiles import ProfileRegistry
from conformance.samples import generate_feed, iter_resources

REPO = Path(__file__).resolve().parents[2]
STANDARD = REPO / "standards" / "mdss" / "1.0.0"
MDSS = "https://w3id.org/mdss/StructureDefinition/MDSS-"
PROFILED = frozenset(
    {
        "Patient",
        "Encounter",
        "Observation",
        "Condition",
        "MedicationRequest",
        "QuestionnaireResponse",
    }
)

_REPLACEMENTS: list[Any] = [
    "x",
    "",
    1,
    -5.5,
    True,
    None,
    {},
    [],
    {"a": 1},
    [{"code": "x"}],
    "http://snomed.info/sct",
    "http://loinc.org",
    "8867-4",
    "mm[Hg]",
    "vital-signs",
    "https://fhir.nhs.uk/Id/nhs-number",
    "Patient/1",
    "Group/1",
]


def _nodes(obj: Any, out: list[tuple[Any, Any]]) -> None:
    if isinstance(obj, dict):
        for k in list(obj):
            out.append((obj, k))
            _nodes(obj[k], out)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.append((obj, i))
            _nodes(v, out)


def _mutate(resource: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A copy with one random change: a key dropped, a value replaced, an item duplicated,
    a string shortened, a primitive extension or an unknown key added."""
    res = copy.deepcopy(resource)
    nodes: list[tuple[Any, Any]] = []
    _nodes(res, nodes)
    parent, key = rng.choice(nodes)
    op = rng.randrange(6)
    if op == 0 and isinstance(parent, dict) and key != "resourceType":
        del parent[key]
    elif op == 1:
        parent[key] = copy.deepcopy(rng.choice(_REPLACEMENTS))
    elif op == 2 and isinstance(parent[key], list) and parent[key]:
        parent[key].append(copy.deepcopy(parent[key][0]))
    elif op == 3 and isinstance(parent[key], str):
        parent[key] = parent[key][:-1] or "y"
    elif op == 4 and isinstance(parent, dict) and isinstance(key, str):
        parent["_" + key] = {"extension": [{"url": "http://x.org/e", "valueString": "a"}]}
    elif op == 5 and isinstance(parent[key], dict):
        parent[key]["valueQuantity"] = {"value": 1, "unit": "kg"}
    return res


@pytest.fixture(scope="module")
def validator() -> FhirValidator:
    defs = DefinitionSet.load([STANDARD / "profiles", STANDARD / "terminology"])
    return FhirValidator.base().with_definitions(defs)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    generated = list(iter_resources(patients=6, seed=5))
    feed = generate_feed(
        tmp_path_factory.mktemp("feed"),
        patients=12,
        seed=7,
        defects={
            "MDSS-STR-02": 0.3,
            "MDSS-STR-03": 0.3,
            "MDSS-TERM-02": 0.3,
            "MDSS-TERM-03": 0.3,
            "MDSS-ORG-01": 0.3,
            "MDSS-ID-07": 0.3,
        },
    )
    defective = [
        orjson.loads(line)
        for f in sorted(Path(feed.root).glob("*.ndjson"))
        for line in f.read_bytes().splitlines()
        if line.strip()
    ]
    examples = [orjson.loads(f.read_bytes()) for f in sorted(EXAMPLES.rglob("*.json"))]
    ukcore = parse_fhir_xml(
        (FIXTURES / "ukcore" / "UKCore-Patient-RichardSmith-Example.xml").read_text()
    )
    rng = random.Random(11)
    base = [*generated, *defective, *examples, ukcore]
    mutated = [_mutate(r, rng) for r in base for _ in range(4)]
    return base + mutated


def _profiles(resource: Any) -> tuple[str, ...]:
    rtype = resource.get("resourceType") if isinstance(resource, dict) else None
    return (MDSS + rtype,) if isinstance(rtype, str) and rtype in PROFILED else ()


def _run(v: FhirValidator, corpus: list[dict[str, Any]]) -> list[Any]:
    out: list[Any] = []
    for r in corpus:
        try:
            out.append(v.validate(r, _profiles(r)))
        except Exception as exc:  # the full walk's own crashes must stay the same too
            out.append(("raised", type(exc).__name__))
    return out


@pytest.mark.pure_python
def test_profile_pre_check_changes_no_result(
    validator: FhirValidator, corpus: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = {True: 0, False: 0}
    real = ProfileRegistry._fast_ok

    def counted(self: ProfileRegistry, *args: Any) -> bool:
        ok = real(self, *args)
        answers[ok] += 1
        return ok

    monkeypatch.setattr(ProfileRegistry, "_fast_ok", counted)
    fast = _run(validator, corpus)
    monkeypatch.setattr(ProfileRegistry, "_fast_ok", lambda *a: False)
    slow = _run(validator, corpus)
    assert fast == slow
    profile_issues = sum(1 for r in slow if isinstance(r, list) for i in r if i.source != "base")
    assert profile_issues > 100  # the corpus does break profiles
    assert answers[True] > len(corpus) // 3  # and the pre-check does answer for most shapes
    assert answers[False] > 100


def test_pre_check_answers_true_for_generated_vital_signs(validator: FhirValidator) -> None:
    reg = validator.registry
    vital = [
        r
        for r in iter_resources(patients=3, seed=2)
        if r["resourceType"] == "Observation" and "component" in r
    ]
    assert vital  # blood pressure panels: component slicing the full walk cannot decide
    for r in vital:
        assert reg._fast_ok("http://hl7.org/fhir/StructureDefinition/bp", True, r, r)
        assert reg.validate(r, ("http://hl7.org/fhir/StructureDefinition/bp",), (), True) == []


def test_pre_check_says_no_when_the_profile_has_something_to_say(validator: FhirValidator) -> None:
    reg = validator.registry
    patient = next(r for r in iter_resources(patients=1, seed=1) if r["resourceType"] == "Patient")
    url = MDSS + "Patient"
    assert reg._fast_ok(url, True, patient, patient)
    broken = copy.deepcopy(patient)
    del broken["gender"]
    assert not reg._fast_ok(url, True, broken, broken)
    assert [i.code for i in reg.validate(broken, (url,), (), True)] == ["cardinality-min"]

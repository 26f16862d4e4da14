"""Compiled profile checks: what they report, and where.

The MDSS profiles (which pull in UK Core and, for vital signs, the core R4 profiles) are
applied to the generator's valid resources (no profile issue), to crafted violations (the
issue the profile's own definition calls for, at the element's path) and to randomly
mutated copies of many resources: validation never raises, and every issue's path leads
through the resource to the element it names.
"""

from __future__ import annotations

import copy
import random
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from fhir_helpers import EXAMPLES, FIXTURES

from conformance.fhir import DefinitionSet, FhirValidator, parse_fhir_xml
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


_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*(?:\[x\])?)(?:\[(\d+)\])?")


def _reaches(resource: dict[str, Any], expression: str) -> bool:
    """Every step of a path but the last leads to a value in the resource (the last
    may name a missing element: a cardinality issue)."""
    rtype = resource["resourceType"]
    unknown = ".(unknown element)"  # an unknown element's name is never echoed
    if expression.endswith(unknown):
        expression = expression[: -len(unknown)] + ".x"
    if not expression.startswith(rtype):
        return False
    rest = expression[len(rtype) :]
    steps = [(m.group(1), m.group(2)) for m in _STEP.finditer(rest)]
    if "".join(m.group(0) for m in _STEP.finditer(rest)) != rest:
        return False
    cur: Any = resource
    for key, index in steps[:-1]:
        if not isinstance(cur, dict) or key not in cur:
            return False
        cur = cur[key]
        if index is not None:
            if not isinstance(cur, list) or int(index) >= len(cur):
                return False
            cur = cur[int(index)]
    return True


def test_mutated_resources_never_raise_and_paths_lead_to_elements(
    validator: FhirValidator, corpus: list[dict[str, Any]]
) -> None:
    located = 0
    for r in corpus:
        for issue in validator.validate(r, _profiles(r)):
            if issue.code in ("unknown-profile", "profile-error", "profile-type"):
                continue  # about the profile, located at the resource type
            if issue.code == "invalid-resource-type":
                continue  # no type, no path
            assert _reaches(r, issue.expression), (issue, r)
            located += 1
    assert located > 1000  # the corpus does break resources, deep inside too


def test_generated_resources_conform_to_the_mdss_profiles(validator: FhirValidator) -> None:
    for r in iter_resources(patients=8, seed=4):
        assert [i for i in validator.validate(r, _profiles(r)) if i.source != "base"] == []


def test_generated_vital_signs_conform_to_the_core_profile(validator: FhirValidator) -> None:
    reg = validator.registry
    vital = [
        r
        for r in iter_resources(patients=3, seed=2)
        if r["resourceType"] == "Observation" and "component" in r
    ]
    assert vital  # blood pressure panels: sliced components
    for r in vital:
        assert reg.validate(r, ("http://hl7.org/fhir/StructureDefinition/bp",), (), True) == []
        broken = copy.deepcopy(r)
        broken["component"] = broken["component"][:1]  # one of the two required slices
        found = reg.validate(broken, ("http://hl7.org/fhir/StructureDefinition/bp",), (), True)
        # component is 2..* (the slices, told apart by coding, are not evaluated offline)
        assert ("cardinality-min", "Observation.component") in {
            (i.code, i.expression) for i in found
        }


def _patient() -> dict[str, Any]:
    return copy.deepcopy(
        next(r for r in iter_resources(patients=1, seed=1) if r["resourceType"] == "Patient")
    )


def test_a_missing_required_element(validator: FhirValidator) -> None:
    reg = validator.registry
    url = MDSS + "Patient"
    patient = _patient()
    assert reg.validate(patient, (url,), (), True) == []
    del patient["gender"]
    found = reg.validate(patient, (url,), (), True)
    assert [(i.code, i.expression, i.source) for i in found] == [
        ("cardinality-min", "Patient.gender", url)
    ]


def test_an_element_inside_a_slice(validator: FhirValidator) -> None:
    # UK Core's identifier:nhsNumber slice (system fixed) requires a value
    url = MDSS + "Patient"
    patient = _patient()
    nhs = "https://fhir.nhs.uk/Id/nhs-number"
    patient["identifier"] = [{"system": "urn:x", "value": "1"}, {"system": nhs}]
    found = validator.registry.validate(patient, (url,), (), True)
    assert ("cardinality-min", "Patient.identifier[1].value") in {
        (i.code, i.expression) for i in found
    }


def test_a_slice_that_allows_one_item(validator: FhirValidator) -> None:
    # UK Core Patient: at most one ethnic category extension
    url = MDSS + "Patient"
    patient = _patient()
    ethnic = [e for e in patient["extension"] if e["url"].endswith("EthnicCategory")]
    assert ethnic
    patient["extension"].append(copy.deepcopy(ethnic[0]))
    found = validator.registry.validate(patient, (url,), (), True)
    assert [(i.code, i.expression) for i in found] == [("slice-cardinality", "Patient.extension")]

"""Speed properties of the engine: the datatype fast path changes no result, and Bundle
validation time grows linearly with the number of entries."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from fhir_helpers import EXAMPLES

import conformance.fhir.validator as validator_module
from conformance.fhir import FhirValidator
from conformance.samples import generate_feed, iter_resources


def _examples() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for f in sorted(EXAMPLES.rglob("*.json")):
        out.append(orjson.loads(f.read_bytes()))
    return out


def _broken(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of generated resources with datatype values broken in the usual ways."""
    out: list[dict[str, Any]] = []
    breakers = [
        lambda c: c.update(system=1),  # wrong primitive type
        lambda c: c.update(code=""),  # empty string
        lambda c: c.update(extra="x"),  # unknown element
        lambda c: c.clear(),  # empty object
        lambda c: c.update(userSelected="yes"),
    ]
    n = 0
    for res in resources:
        for key in ("code", "category", "type", "class", "clinicalStatus"):
            value = res.get(key)
            concept = value[0] if isinstance(value, list) else value
            if not isinstance(concept, dict):
                continue
            coding = concept if "coding" not in concept else concept["coding"][0]
            broken = copy.deepcopy(res)
            target = broken[key][0] if isinstance(broken[key], list) else broken[key]
            target = target if "coding" not in target else target["coding"][0]
            breakers[n % len(breakers)](target)
            n += 1
            assert coding is not target
            out.append(broken)
            break
        period = res.get("period")
        if isinstance(period, dict) and "end" in period:
            broken = copy.deepcopy(res)
            broken["period"]["start"], broken["period"]["end"] = period["end"], period["start"]
            out.append(broken)  # per-1 fails
        subject = res.get("subject")
        if isinstance(subject, dict):
            broken = copy.deepcopy(res)
            broken["subject"]["identifier"] = {"system": "urn:x", "value": 3}
            out.append(broken)
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    generated = list(iter_resources(patients=8, seed=4))
    feed = generate_feed(
        tmp_path_factory.mktemp("feed"),
        patients=15,
        seed=2,
        defects={
            "MDSS-STR-02": 0.3,
            "MDSS-TERM-02": 0.3,
            "MDSS-TERM-03": 0.3,
            "MDSS-TIME-02": 0.3,
            "MDSS-ORG-01": 0.3,
            "MDSS-ID-07": 0.3,
        },
    )
    defective = [
        orjson.loads(line)
        for f in sorted(Path(feed.root).glob("*.ndjson"))
        for line in f.read_bytes().splitlines()
    ]
    return _examples() + generated + defective + _broken(generated)


@pytest.mark.pure_python
def test_fast_path_changes_no_result(
    corpus: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    v = FhirValidator.base()
    fast = [sorted(v.validate(r)) for r in corpus]
    monkeypatch.setattr(validator_module, "fast_ok", lambda *a: False)
    slow = [sorted(v.validate(r)) for r in corpus]
    assert fast == slow
    assert sum(map(len, fast)) > len(corpus)  # the corpus does carry issues


def _bundle(n: int) -> dict[str, Any]:
    entries = []
    for i in range(n):
        entries.append(
            {
                "fullUrl": f"urn:uuid:00000000-0000-4000-8000-{i:012d}",
                "resource": {
                    "resourceType": "Patient",
                    "id": f"p{i}",
                    "gender": "female",
                    "identifier": [
                        {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"}
                    ],
                },
            }
        )
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def _cpu(v: FhirValidator, bundle: dict[str, Any]) -> float:
    best = float("inf")
    for _ in range(2):
        t0 = time.process_time()
        issues = v.validate(bundle)
        best = min(best, time.process_time() - t0)
    assert len(issues) == len(bundle["entry"])  # dom-6 (no narrative) per entry, nothing else
    return best


def test_bundle_time_is_linear_in_entries() -> None:
    v = FhirValidator.base()
    small, large = _bundle(2_000), _bundle(20_000)
    _cpu(v, _bundle(50))  # warm up
    ratio = _cpu(v, large) / _cpu(v, small)
    assert ratio <= 15, f"20k entries took {ratio:.1f}x the time of 2k"

"""Speed properties of the engine: Bundle validation time grows linearly with the number of
entries."""

from __future__ import annotations

import time
from typing import Any

from conformance.fhir import FhirValidator


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

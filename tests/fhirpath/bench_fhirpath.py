"""Throughput of compiled invariants vs fhirpathpy (not a test; run by hand).

    .venv/bin/python tests/fhirpath/bench_fhirpath.py

Resources are synthetic UK-style ones (NHS Number from the 999 test range).
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable
from typing import Any

from fhirpathpy import compile as fp_compile
from fhirpathpy.models import models

from conformance.fhir.fhirpath import compile_invariant

PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "example-1",
    "meta": {"profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"]},
    "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'},
    "contained": [{"resourceType": "Organization", "id": "gp", "name": "Test Surgery"}],
    "extension": [
        {
            "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory",
            "valueCodeableConcept": {"coding": [{"system": "https://fhir.hl7.org.uk/CodeSystem/"
                                                 "UKCore-EthnicCategory", "code": "A"}]},
        }
    ],
    "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990000018"}],
    "name": [{"use": "official", "family": "Testperson", "given": ["Alex"]}],
    "gender": "female",
    "birthDate": "1970-01-01",
    "address": [{"line": ["1 Test Street"], "city": "Leeds", "postalCode": "LS1 1AA"}],
    "contact": [{"relationship": [{"text": "next of kin"}], "name": {"family": "Testperson"}}],
    "generalPractitioner": [{"reference": "#gp"}],
}  # fmt: skip
# fhirpathpy cannot evaluate dom-3 when there are contained resources ('as' on several
# items); dom-3 is measured on both forms, dom-3* (with contained) for this evaluator only.
PATIENT_PLAIN = {k: v for k, v in PATIENT.items() if k != "contained"}
PATIENT_PLAIN["generalPractitioner"] = [{"reference": "Organization/gp"}]
WEIGHT: dict[str, Any] = {
    "resourceType": "Observation",
    "id": "weight-1",
    "status": "final",
    "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                              "observation-category", "code": "vital-signs"}]}],
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "27113001"},
                        {"system": "http://loinc.org", "code": "29463-7"}]},
    "subject": {"reference": "Patient/example-1"},
    "effectiveDateTime": "2024-05-01T09:30:00+01:00",
    "valueQuantity": {"value": 72.5, "unit": "kg", "system": "http://unitsofmeasure.org",
                      "code": "kg"},
}  # fmt: skip
DOM3 = (
    "contained.where((('#'+id in (%resource.descendants().reference | "
    "%resource.descendants().as(canonical) | %resource.descendants().as(uri) | "
    "%resource.descendants().as(url))) or descendants().where(reference = '#').exists() or "
    "descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) "
    "= '#').exists()).not()).trace('unmatched', id).empty()"
)
CASES = [
    ("obs-6", "dataAbsentReason.empty() or value.empty()", WEIGHT, None, "Observation"),
    (
        "obs-7",
        "value.empty() or component.code.where(coding.intersect(%resource.code.coding)"
        ".exists()).empty()",
        WEIGHT, None, "Observation",
    ),
    ("dom-3", DOM3, PATIENT_PLAIN, None, "Patient"),
    ("dom-3*", DOM3, PATIENT, None, "Patient"),
    (
        "pat-1",
        "name.exists() or telecom.exists() or address.exists() or organization.exists()",
        PATIENT, PATIENT["contact"][0], "Patient.contact",
    ),
]  # fmt: skip


def rate(fn: Callable[[], object], seconds: float = 0.5) -> float:
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(200):
            fn()
        n += 200
    return n / elapsed


def main() -> None:
    r4 = models["r4"]
    quiet = {"traceFn": lambda label, values: None}
    print(f"{'rule':8} {'ours/s':>10} {'fhirpathpy/s':>13} {'speed-up':>9}")
    for key, expr, res, focus, base in CASES:
        ours = compile_invariant(key, expr)
        theirs = fp_compile(expr, r4, quiet)  # no choice types below these bases
        env = {"resource": res, "rootResource": res}
        target = res if focus is None else focus
        ftype = base if focus is not None else None
        assert ours.is_true(res, focus, focus_type=ftype)
        a = rate(lambda o=ours, r=res, f=focus, t=ftype: o.is_true(r, f, focus_type=t))
        if key.endswith("*"):
            print(f"{key:8} {a:10.0f} {'n/a':>13}")
            continue
        with contextlib.redirect_stdout(io.StringIO()):
            assert theirs(target, env) == [True]
            b = rate(lambda th=theirs, x=target, e=env: th(x, e))
        print(f"{key:8} {a:10.0f} {b:13.0f} {a / b:8.1f}x")


if __name__ == "__main__":
    main()

"""Base R4 validation over the official R4 examples.

Usage: python benchmarks/r4_examples.py [--shared ../shared]

Prints the share of example files with no error and every remaining error with a
justification category (the examples themselves are not all valid R4).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from conformance.fhir import FhirValidator  # noqa: E402

#: (file, issue code, expression prefix) -> why the error is genuine
JUSTIFIED: dict[tuple[str, str], str] = {
    ("DeviceUseStatement-example.json", "reference-target"):
        "genuine: R4 DeviceUseStatement.reasonReference does not allow Procedure",
    ("MedicationRequest-medrx0301.json", "reference-target"):
        "genuine: R4 dispenseRequest.performer allows only Organization",
    ("Observation-clinical-gender.json", "reference-target"):
        "genuine: R4 Observation.performer does not allow Encounter",
    ("Questionnaire-qs1.json", "cardinality-min"):
        "genuine: nested items lack the mandatory linkId (1..1)",
    ("Observation-f202.json", "cardinality-min"):
        "genuine: a body temperature must conform to the R4 bodytemp profile (effective[x] 1..1)",
}
EXAMPLE_EXT = ("policy: extension on an example domain with no definition (HL7's validator "
               "also rejects these outside the spec's own example build)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    args = ap.parse_args(argv)
    files = sorted((args.shared / "fhir" / "r4-examples").glob("*.json"))
    docs = [(f.name, orjson.loads(f.read_bytes())) for f in files]
    v = FhirValidator.base()
    t0 = time.perf_counter()
    results = [(name, v.validate(doc)) for name, doc in docs]
    elapsed = time.perf_counter() - t0
    clean = 0
    unexplained = 0
    for name, issues in results:
        errors = [i for i in issues if i.severity == "error"]
        if not errors:
            clean += 1
            continue
        for i in errors:
            why = JUSTIFIED.get((name, i.code))
            if why is None and i.code == "unknown-extension":
                why = EXAMPLE_EXT
            if why is None:
                unexplained += 1
                why = "UNEXPLAINED"
            print(f"{name}: {i.code} at {i.expression}: {i.message}\n    -> {why}")
    n = len(results)
    lenient = v.allowing_example_urls()
    clean_lenient = sum(
        1 for _, doc in docs if not any(i.severity == "error" for i in lenient.validate(doc))
    )
    print(f"\nfiles: {n}; with no error: {clean} ({100 * clean / n:.1f} %); "
          f"unexplained errors: {unexplained}; validated in {elapsed:.2f} s")
    print(f"allowing example-domain extensions (as the spec's example build does): "
          f"{clean_lenient} ({100 * clean_lenient / n:.1f} %) with no error")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Base R4 validation over the official R4 examples.

Usage: python benchmarks/r4_examples.py [--shared ../shared] [--speed]

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
    (
        "DeviceUseStatement-example.json",
        "reference-target",
    ): "genuine: R4 DeviceUseStatement.reasonReference does not allow Procedure",
    (
        "MedicationRequest-medrx0301.json",
        "reference-target",
    ): "genuine: R4 dispenseRequest.performer allows only Organization",
    (
        "Observation-clinical-gender.json",
        "reference-target",
    ): "genuine: R4 Observation.performer does not allow Encounter",
    (
        "Questionnaire-qs1.json",
        "cardinality-min",
    ): "genuine: nested items lack the mandatory linkId (1..1)",
    (
        "Observation-f202.json",
        "cardinality-min",
    ): "genuine: a body temperature must conform to the R4 bodytemp profile (effective[x] 1..1)",
    (
        "DiagnosticReport-example-pgx.json",
        "invariant",
    ): "genuine: Attachment.hash is the base64 SHA-1 of the data (R4); this one is 40 hex "
    "digits, and not the SHA-1 of the data either (att-hash)",
}
EXAMPLE_CANONICAL = (
    "policy: canonical on example.org that resolves to nothing (HL7's validator rejects "
    "these unless it allows examples, as the spec's own example build does)"
)
EXAMPLE_EXT = (
    "policy: extension on an example domain with no definition (HL7's validator "
    "also rejects these outside the spec's own example build)"
)


def speed(seconds: float = 2.0) -> None:
    """Resources per CPU-second on the small test fixtures (Patient, Observation, Encounter)."""
    from fhir.resources.R4B import get_fhir_model_class

    fixtures = sorted((REPO / "tests" / "fhir" / "examples" / "valid").glob("*.json"))
    docs = [
        orjson.loads(f.read_bytes())
        for f in fixtures
        if f.stem in ("patient-uk", "observation-weight", "encounter")
    ]
    v = FhirValidator.base()
    classes = {d["resourceType"]: get_fhir_model_class(d["resourceType"]) for d in docs}

    def rate(fn: object) -> float:
        assert callable(fn)
        n = 0
        t0 = time.process_time()
        while time.process_time() - t0 < seconds:
            for d in docs:
                fn(d)
            n += len(docs)
        return n / (time.process_time() - t0)

    for d in docs:  # warm-up: compile the per-type rules and profiles once
        v.validate(d)
    ours = rate(v.validate)
    theirs = rate(lambda d: classes[d["resourceType"]].model_validate(d))
    print(
        f"speed: this engine {ours:,.0f} resources/s; fhir.resources R4B model_validate "
        f"{theirs:,.0f} resources/s (x{ours / theirs:.1f}); same process, same resources"
    )

    def rate_of(d: dict[str, object]) -> float:
        n = 0
        t0 = time.process_time()
        while time.process_time() - t0 < seconds / 2:
            v.validate(d)
            n += 1
        return n / (time.process_time() - t0)

    for d in docs:
        one = rate_of(d)
        print(f"  {d['resourceType']}: {one:,.0f}/s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument(
        "--speed",
        action="store_true",
        help="also time small resources against fhir.resources R4B model_validate",
    )
    args = ap.parse_args(argv)
    if args.speed:
        speed()
    files = sorted((args.shared / "fhir" / "r4-examples").glob("*.json"))
    docs = [(f.name, orjson.loads(f.read_bytes())) for f in files]
    v = FhirValidator.base()
    t0 = time.process_time()
    results = [(name, v.validate(doc)) for name, doc in docs]
    elapsed = time.process_time() - t0
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
            if why is None and i.code == "example-url":
                why = EXAMPLE_CANONICAL
            if why is None:
                unexplained += 1
                why = "UNEXPLAINED"
            print(f"{name}: {i.code} at {i.expression}: {i.message}\n    -> {why}")
    n = len(results)
    lenient = v.allowing_example_urls()
    clean_lenient = sum(
        1 for _, doc in docs if not any(i.severity == "error" for i in lenient.validate(doc))
    )
    print(
        f"\nfiles: {n}; with no error: {clean} ({100 * clean / n:.1f} %); "
        f"unexplained errors: {unexplained}; validated in {elapsed:.2f} s"
    )
    print(
        f"allowing example-domain extensions (as the spec's example build does): "
        f"{clean_lenient} ({100 * clean_lenient / n:.1f} %) with no error"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

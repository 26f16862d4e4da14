"""Agreement with the HL7 Java reference validator on HL7's own validator test cases.

Usage: python benchmarks/hl7_suite.py [--shared ../shared] [-v]

Each manifest case is run like the reference harness: supporting and profile files are
loaded as a package; the instance is validated against base R4 plus the profiles it claims
(compared with the case's ``java`` outcome) and, where the case has a ``profile`` block,
also against that profile (compared with ``profile.java``). Prints verdict agreement
(errors expected vs found) and error-count agreement.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from conformance.fhir import DefinitionError, DefinitionSet, FhirValidator  # noqa: E402


def java_errors(outcome_path: Path) -> int:
    oo = orjson.loads(outcome_path.read_bytes())
    return sum(1 for i in oo.get("issue", ()) if i.get("severity") in ("error", "fatal"))


def run(shared: Path, verbose: bool) -> int:
    root = shared / "fhir" / "fhir-test-cases"
    vdir = root / "validator"
    manifest = orjson.loads((root / "manifest.json").read_bytes())
    base = FhirValidator.base()
    rows: list[tuple[str, str, int, int]] = []
    t0 = time.perf_counter()
    for case in manifest["test-cases"]:
        files = [*case.get("supporting", ()), *case.get("profiles", ())]
        prof_block: dict[str, Any] | None = case.get("profile")
        validator = base
        if files:
            try:
                validator = base.with_definitions(DefinitionSet.load([vdir / f for f in files]))
            except DefinitionError as exc:
                print(f"  {case['name']}: cannot load definitions: {exc}")
        try:
            resource = orjson.loads((vdir / case["file"]).read_bytes())
            issues = validator.validate(resource)
            ours = sum(1 for i in issues if i.severity == "error")
        except orjson.JSONDecodeError:
            resource, issues, ours = None, [], 1  # a parse failure is one error
        rows.append((case["name"], "base", java_errors(vdir / "outcomes" / case["java"]), ours))
        if verbose:
            for i in issues:
                if i.severity == "error":
                    print(f"    [{case['name']}] {i.code} {i.expression}: {i.message}")
        if prof_block is not None and resource is not None and "java" in prof_block:
            sd = DefinitionSet.load([vdir / prof_block["source"]])
            url = next(u for u in sd.structure_definitions if "|" not in u)
            extra = [*prof_block.get("supporting", ()), prof_block["source"]]
            pvalidator = validator.with_definitions(DefinitionSet.load([vdir / f for f in extra]))
            pissues = pvalidator.validate(resource, [url])
            pours = sum(1 for i in pissues if i.severity == "error")
            rows.append(
                (
                    case["name"],
                    "profile",
                    java_errors(vdir / "outcomes" / prof_block["java"]),
                    pours,
                )
            )
            if verbose:
                for i in pissues:
                    if i.severity == "error":
                        print(f"    [{case['name']} profile] {i.code} {i.expression}: {i.message}")
    elapsed = time.perf_counter() - t0
    verdict = sum(1 for _, _, j, o in rows if (j > 0) == (o > 0))
    counts = sum(1 for _, _, j, o in rows if j == o)
    print(f"{'case':45} {'step':8} {'java':>5} {'ours':>5}")
    for name, step, j, o in rows:
        mark = "" if (j > 0) == (o > 0) else "   <-- verdict differs"
        print(f"{name[:45]:45} {step:8} {j:5} {o:5}{mark}")
    n = len(rows)
    print(f"\nruns: {n} ({len(manifest['test-cases'])} cases) in {elapsed:.2f} s")
    print(f"verdict agreement:     {verdict}/{n} = {100 * verdict / n:.1f} %")
    print(f"error-count agreement: {counts}/{n} = {100 * counts / n:.1f} %")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every error found")
    args = ap.parse_args(argv)
    return run(args.shared, args.verbose)


if __name__ == "__main__":
    raise SystemExit(main())

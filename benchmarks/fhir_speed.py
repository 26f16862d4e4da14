"""Throughput of the FHIR engine against fhir.resources, on the same generated resources.

Usage: python benchmarks/fhir_speed.py [--patients 300] [--jobs 2] [--profile] [--bundle N]

Measures resources/s, in one process, of
  * FhirValidator.base()                       (base R4: structure, bindings, invariants)
  * base + the MDSS profiles                   (what MDSS-STR-02/03 run)
  * fhir.resources R4B ``model_validate``      (structure only: types and cardinality)
on the resources ``conformance.samples.iter_resources`` generates, then the engine with MDSS
profiles in ``--jobs`` worker processes. ``--profile`` prints the cProfile of the MDSS run;
``--bundle N`` also times one collection Bundle of N entries (for linearity).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from conformance.fhir import DefinitionSet, FhirValidator  # noqa: E402
from conformance.samples import iter_resources  # noqa: E402

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


def mdss_validator() -> FhirValidator:
    defs = DefinitionSet.load([STANDARD / "profiles", STANDARD / "terminology"])
    return FhirValidator.base().with_definitions(defs)


def profiles_for(res: dict[str, Any]) -> tuple[str, ...]:
    t = res["resourceType"]
    return (MDSS + t,) if t in PROFILED else ()


def run_base(v: FhirValidator, resources: Sequence[dict[str, Any]]) -> int:
    n = 0
    for r in resources:
        n += len(v.validate(r))
    return n


def run_mdss(v: FhirValidator, resources: Sequence[dict[str, Any]]) -> int:
    n = 0
    for r in resources:
        n += len(v.validate(r, profiles_for(r)))
    return n


def run_fhir_resources(resources: Sequence[dict[str, Any]]) -> int:
    from fhir.resources.R4B import get_fhir_model_class

    n = 0
    for r in resources:
        get_fhir_model_class(r["resourceType"]).model_validate(r)
        n += 1
    return n


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best of ``repeat`` CPU times of this process (seconds): the machine is shared, and
    CPU time is far less disturbed by other work than wall time."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


# ------------------------------------------------------------------------- worker pool

_WORKER: FhirValidator | None = None


def _init_worker() -> None:
    global _WORKER
    _WORKER = mdss_validator()


def _chunk(args: tuple[int, int]) -> tuple[int, float, float]:
    """Validate one chunk in a worker: (resources, CPU seconds, wall seconds)."""
    patients, seed = args
    assert _WORKER is not None
    resources = list(iter_resources(patients=patients, seed=seed))
    c0, w0 = time.process_time(), time.perf_counter()
    run_mdss(_WORKER, resources)
    return len(resources), time.process_time() - c0, time.perf_counter() - w0


def parallel_rate(jobs: int, patients: int) -> tuple[float, float, int]:
    """Resources/s of MDSS validation in ``jobs`` processes at once, one chunk each
    (generation excluded): by CPU time and by wall time."""
    per = max(1, patients // jobs)
    with ProcessPoolExecutor(jobs, initializer=_init_worker) as pool:
        list(pool.map(_chunk, [(20, 99)] * jobs))  # warm up each worker
        got = list(pool.map(_chunk, [(per, 1 + i) for i in range(jobs)]))
    count = sum(g[0] for g in got)
    cpu = max(g[1] for g in got)
    wall = max(g[2] for g in got)
    return count / cpu, count / wall, count


def bundle_of(resources: Sequence[dict[str, Any]], n: int) -> dict[str, Any]:
    entries = []
    for i in range(n):
        r = resources[i % len(resources)]
        entries.append({"fullUrl": f"urn:uuid:00000000-0000-4000-8000-{i:012d}", "resource": r})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=300)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--profile", action="store_true", help="print cProfile of the MDSS run")
    ap.add_argument("--bundle", type=int, default=0, help="time a Bundle of N entries")
    ap.add_argument("--skip-fhir-resources", action="store_true")
    args = ap.parse_args(argv)

    resources = list(iter_resources(patients=args.patients, seed=1))
    kinds = Counter(r["resourceType"] for r in resources)
    n = len(resources)
    print(
        f"{n} resources from {args.patients} patients: "
        + ", ".join(f"{k} {v}" for k, v in kinds.most_common())
    )
    base = FhirValidator.base()
    mdss = mdss_validator()
    run_mdss(mdss, resources[:200])  # warm: compile types, profiles and invariants

    t_base = timed(lambda: run_base(base, resources))
    t_mdss = timed(lambda: run_mdss(mdss, resources))
    print(f"engine base R4            {n / t_base:10,.0f} resources/s")
    print(f"engine base + MDSS        {n / t_mdss:10,.0f} resources/s")
    for kind in sorted(kinds):
        subset = [r for r in resources if r["resourceType"] == kind]
        t = timed(lambda s=subset: run_mdss(mdss, s))
        print(f"    {kind:<24}{len(subset) / t:10,.0f} resources/s")
    fr_rate = 0.0
    if not args.skip_fhir_resources:
        run_fhir_resources(resources[:200])
        t_fr = timed(lambda: run_fhir_resources(resources), 2)
        fr_rate = n / t_fr
        print(f"fhir.resources R4B        {fr_rate:10,.0f} resources/s (structure only)")
    if args.jobs > 1:
        cpu_rate, wall_rate, count = parallel_rate(args.jobs, args.patients * args.jobs)
        print(
            f"engine base + MDSS, {args.jobs} processes {cpu_rate:8,.0f} resources/s by CPU "
            f"time, {wall_rate:,.0f} by wall time ({count} resources)"
        )
        if fr_rate:
            print(
                f"ratio to fhir.resources (1 process): {cpu_rate / fr_rate:.1f}x by CPU time, "
                f"{wall_rate / fr_rate:.1f}x by wall time"
            )
    if args.bundle:
        for size in (args.bundle // 10, args.bundle):
            b = bundle_of(resources, size)
            t = timed(lambda b=b: base.validate(b), 1)
            print(f"Bundle of {size:>7} entries: {t:6.2f} s, {t / size * 1e6:6.1f} us/entry")
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        run_mdss(mdss, resources)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""CPU cost per record of full MDSS validation, and of the FHIR validator alone.

    python benchmarks/engine_profile.py [--patients 500] [--seed 3] [--profile] [--top 30]

Generates (once, cached in ``/tmp/feed<patients>``) a feed with
``conformance.samples.generate_feed``, then in one process: a warm-up
``validate([feed], jobs=1)`` and a timed second one (``time.process_time``, so a loaded
machine skews the figures less than wall time). Then times ``FhirValidator`` alone on the
same resources: the base R4 walk alone, the base validator (which also applies the core
profiles R4 mandates, e.g. vital signs) and the validator with the MDSS profiles.
``--profile`` prints the cProfile top functions (by tottime) of the timed full run.
``--repeat N`` times each part N times and keeps the best (the machine is shared).
``--by-check`` prints each check's CPU per record (see :func:`by_check`).
``--shares`` also prints what a ``--jobs 2`` run's workers send back: the bytes pickled
per task (the tasks a parallel run would plan, read in this process) and the largest
check states.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# After site-packages: the installed build (compiled or pure) is measured where there is
# one, else the sources.
sys.path.append(str(REPO))

from conformance import validate  # noqa: E402
from conformance.compiled import build_kind  # noqa: E402
from conformance.samples import generate_feed  # noqa: E402

STANDARD = REPO / "standards" / "mdss" / "1.0.0"


def feed_for(patients: int, seed: int) -> Path:
    folder = Path(f"/tmp/feed{patients}" if seed == 3 else f"/tmp/feed{patients}-s{seed}")
    if not folder.exists() or not any(folder.iterdir()):
        generate_feed(folder, patients=patients, seed=seed)
    return folder


def load_resources(folder: Path) -> list[dict[str, Any]]:
    """The feed's resources, from its NDJSON files (Bundles unpacked)."""
    out: list[dict[str, Any]] = []
    for path in sorted(folder.rglob("*.ndjson")):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    res = json.loads(line)
                    if res.get("resourceType") == "Bundle":
                        out.extend(e["resource"] for e in res.get("entry", []) if "resource" in e)
                    else:
                        out.append(res)
    return out


def cpu(fn: Callable[[], Any]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def share_sizes(feed: Path, jobs: int) -> None:
    """Bytes pickled per task of a parallel run, as its workers would send them."""
    import pickle
    from dataclasses import fields, replace

    from conformance.engine.parallel import plan, range_source
    from conformance.engine.session import Session
    from conformance.engine.spec import RunSpec
    from conformance.limits import Limits
    from conformance.readers.discovery import find_inputs

    found = find_inputs([str(feed)], Limits())
    session = Session.open(replace(RunSpec(jobs=jobs), feed=found.feed))
    tasks, _ = plan(found.items, jobs, session.spec.chunk_bytes)
    ids = [c.requirement.id for c in session.compiled.checks]
    total = 0
    biggest: dict[str, int] = {}
    parts: dict[str, int] = {}
    shares = []
    for task in tasks:
        acc = session.accumulator()
        source = range_source(task.item, task.range) if task.range is not None else None
        session.read(task.item, acc, source=source)
        share = acc.share
        shares.append(share)
        total += len(pickle.dumps(share))
        for f in fields(share):
            parts[f.name] = parts.get(f.name, 0) + len(pickle.dumps(getattr(share, f.name)))
        for rid, state in zip(ids, share.states, strict=True):
            biggest[rid] = biggest.get(rid, 0) + len(pickle.dumps(state))
    print(f"shares ({jobs} jobs): {len(tasks)} tasks, {total:,} bytes pickled, ", end="")
    print(f"{total // max(1, len(tasks)):,} bytes per task; ", end="")
    spent = min(cpu(lambda: [pickle.loads(pickle.dumps(s)) for s in shares]) for _ in range(3))
    print(f"pickled and unpickled in {spent * 1000:.1f} ms CPU")
    print("  by field: " + ", ".join(f"{k} {v:,}" for k, v in parts.items() if v > 1000))
    top = sorted(biggest.items(), key=lambda kv: -kv[1])[:4]
    print("  largest states: " + ", ".join(f"{k} {v:,}" for k, v in top))


def by_check(feed: Path, repeat: int) -> None:
    """CPU per record of each compiled check, read in this process (the installed build).

    Each check's bound visit is wrapped in a wall-clock timer (about 0.1 us per call is the timer's
    own); what is shared between checks is charged to the first check that asks for it:
    the FHIR validation of a resource to the first structure check, the shared scan of a
    resource's objects (``checks.references.scan``) to the first check that walks it.
    The remainder is reading, parsing and dispatch.
    """
    from dataclasses import replace

    from conformance.engine.session import Session
    from conformance.engine.spec import RunSpec
    from conformance.limits import Limits
    from conformance.readers.discovery import find_inputs

    found = find_inputs([str(feed)], Limits())
    session = Session.open(replace(RunSpec(jobs=1), feed=found.feed))
    clock = time.perf_counter_ns
    best: dict[str, int] = {}
    best_total = 0
    records = 0
    for _ in range(repeat):
        spent: dict[str, int] = {}
        acc = session.accumulator()

        def timed(visit: Any, rid: str, spent: dict[str, int] = spent) -> Any:
            def run(state: Any, record: Any, emit: Any) -> None:
                started = clock()
                try:
                    visit(state, record, emit)
                finally:
                    spent[rid] = spent.get(rid, 0) + clock() - started

            return run

        acc.targets = [(timed(v, rid), st, em, rid) for v, st, em, rid in acc.targets]
        acc.unparseable_route = []
        started = clock()
        for item in found.items:
            session.read(item, acc)
        total = clock() - started
        records = acc.share.read
        if not best_total or total < best_total:
            best_total, best = total, spent
    n = records or 1
    print(f"by check ({records} records, best of {repeat}; us CPU per record):")
    for rid, ns in sorted(best.items(), key=lambda kv: -kv[1]):
        if ns / n >= 100:  # 0.1 us
            print(f"  {rid:<14} {ns / n / 1000:6.1f}")
    rest = best_total - sum(best.values())
    print(f"  {'reading etc.':<14} {rest / n / 1000:6.1f}  (parsing, records, dispatch, timers)")
    print(f"  {'total':<14} {best_total / n / 1000:6.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=500)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=1, help="timed runs; the best is shown")
    ap.add_argument("--shares", action="store_true", help="bytes pickled per parallel task")
    ap.add_argument("--by-check", action="store_true", help="CPU per record of each check")
    args = ap.parse_args()

    feed = feed_for(args.patients, args.seed)
    card = validate([str(feed)], jobs=1)  # warm-up: imports, standard compile, caches
    records = int(card.data["counts"]["records_read"])
    best = min(cpu(lambda: validate([str(feed)], jobs=1)) for _ in range(args.repeat))
    n = records or 1
    print(f"build: {build_kind()}")
    print(f"records: {records}")
    print(f"full MDSS validate: {best:.3f} s CPU, {best / n * 1e6:.1f} us/record")

    from conformance import load_standard
    from conformance.fhir import DefinitionSet, FhirValidator
    from conformance.nhs.constraints import NHS_CONSTRAINTS

    resources = load_resources(feed)
    base = FhirValidator.base()
    defs = DefinitionSet.load([STANDARD / "profiles", STANDARD / "terminology"])
    mdss = base.with_definitions(defs, NHS_CONSTRAINTS)  # as the standard's checks build it
    profiles = load_standard(str(STANDARD)).profiles
    wanted = [(r, profiles.get(r.get("resourceType", ""), ())) for r in resources]

    def run_walk() -> None:  # the base R4 walk alone: no profile at all
        for r in resources:
            base.base_issues(r)

    def run_base() -> None:
        for r in resources:
            base.validate(r)

    def run_mdss() -> None:
        for r, p in wanted:
            mdss.validate(r, p)

    run_walk()
    run_base()
    run_mdss()
    t_walk = min(cpu(run_walk) for _ in range(args.repeat))
    t_base = min(cpu(run_base) for _ in range(args.repeat))
    t_mdss = min(cpu(run_mdss) for _ in range(args.repeat))
    m = len(resources) or 1
    print(f"resources: {len(resources)}")
    print(f"base R4 walk alone (no profiles): {t_walk / m * 1e6:.1f} us/resource")
    print(
        f"FhirValidator base (R4 + core profiles R4 mandates, e.g. vital signs): "
        f"{t_base / m * 1e6:.1f} us/resource"
    )
    print(f"FhirValidator with MDSS profiles (as STR-02/03): {t_mdss / m * 1e6:.1f} us/resource")
    rest = (best / n - t_mdss / m) * 1e6
    print(
        f"rest: other checks, reading, dispatch (full - FHIR with MDSS profiles): "
        f"{rest:.1f} us/record"
    )

    if args.shares:
        share_sizes(feed, jobs=2)

    if args.by_check:
        by_check(feed, args.repeat)

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        validate([str(feed)], jobs=1)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()

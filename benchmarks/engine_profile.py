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
sys.path.insert(0, str(REPO))

from conformance import validate  # noqa: E402
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=500)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=1, help="timed runs; the best is shown")
    args = ap.parse_args()

    feed = feed_for(args.patients, args.seed)
    card = validate([str(feed)], jobs=1)  # warm-up: imports, standard compile, caches
    records = int(card.data["counts"]["records_read"])
    best = min(cpu(lambda: validate([str(feed)], jobs=1)) for _ in range(args.repeat))
    n = records or 1
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

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        validate([str(feed)], jobs=1)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()

"""Load test, run by hand: a large generated feed with defects, validated within memory.

    .venv/bin/python tests/hostile/load_test.py                  # 1M resources, 10 % defects
    .venv/bin/python tests/hostile/load_test.py --resources 200000 --jobs 2

Generates the feed (recording every defect injected), validates it in a child process
with the command line, then checks that the counts are exact (records read, unparseable,
per resource type, findings for the injected requirement), that the examples are capped,
and that the peak resident memory stays under the target. Prints the figures; exits 1 if
a check fails. ``tests/hostile/test_hostile_load.py`` runs a scaled-down version.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from conformance.samples import GeneratedFeed, generate_feed  # noqa: E402

RESOURCES_PER_PATIENT = 23
"""About how many resources the generator writes per patient (sites and tables aside)."""

DEFECTS = {
    "MDSS-TIME-01": 0.06,  # any resource: meta.lastUpdated missing or malformed
    "MDSS-STR-01": 0.02,  # a truncated NDJSON line: unparseable
    "MDSS-ID-02": 0.10,  # Patients: a wrong NHS Number check digit
    "MDSS-PROV-03": 0.02,  # any resource: no meta.source
}
"""About 10 % of all records carry at least one defect with these rates."""


@dataclass
class Outcome:
    resources: int
    defective: int
    seconds_generate: float
    seconds_validate: float
    peak_rss_mb: float
    problems: list[str]
    card: dict[str, Any]


def build_feed(folder: Path, resources: int, seed: int = 1) -> GeneratedFeed:
    patients = max(1, resources // RESOURCES_PER_PATIENT)
    return generate_feed(folder, patients=patients, seed=seed, defects=DEFECTS)


def check_card(card: dict[str, Any], feed: GeneratedFeed, cap: int) -> list[str]:
    """What is wrong with ``card`` for ``feed`` (empty when the counts are exact)."""
    problems: list[str] = []
    counts = card["counts"]
    written = sum(feed.counts.values())
    truncated = feed.injected_for("MDSS-STR-01")
    expect = {
        "records_read": written,
        "records_unparseable": len(truncated),
        "records_validated": written - len(truncated),
    }
    for key, want in expect.items():
        if counts[key] != want:
            problems.append(f"{key}: {counts[key]}, expected {want}")
    per_type = Counter({k: v for k, v in feed.counts.items()})
    for defect in truncated:
        per_type[defect.resource_type or ""] -= 1
    got_types = {k.removeprefix("table:"): v for k, v in counts["by_resource_type"].items()}
    if got_types != {k: v for k, v in per_type.items() if v}:
        problems.append(f"by_resource_type {got_types} != {dict(per_type)}")
    if sum(i["records_read"] for i in card["inputs"]) != written:
        problems.append("per-file records read do not add up to the total")
    [id02] = [r for r in card["requirements"] if r["id"] == "MDSS-ID-02"]
    injected = len(feed.injected_for("MDSS-ID-02"))
    if id02["codes"].get("nhs-number-check-digit", 0) != injected:
        problems.append(f"ID-02 findings {id02['codes']}, expected {injected} check digits")
    kept = Counter(f["requirement"] for f in card["findings"])
    over = {req: n for req, n in kept.items() if n > cap}
    if over:
        problems.append(f"more than {cap} examples kept for {over}")
    total = sum(sum(r["findings"].values()) for r in card["requirements"])
    if counts["findings"] != total or total < len(card["findings"]):
        problems.append(f"findings count {counts['findings']} vs {total} by requirement")
    return problems


def run(resources: int, jobs: int, workdir: Path, cap: int = 100) -> Outcome:
    started = time.perf_counter()
    feed = build_feed(workdir / "feed", resources)
    generated = time.perf_counter() - started
    defective = len({(d.file, d.line) for d in feed.injected if d.line is not None})
    out = workdir / "card.json"
    command = [
        sys.executable,
        "-m",
        "conformance",
        "validate",
        str(feed.root),
        "-f",
        "json",
        "-o",
        str(out),
        "--no-progress",
        "--jobs",
        str(jobs),
        "--limit",
        f"findings-per-requirement={cap}",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    validated = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode not in (0, 1):
        raise SystemExit(f"validate failed ({done.returncode}): {done.stderr}")
    card = json.loads(out.read_text())
    return Outcome(
        resources=sum(feed.counts.values()),
        defective=defective,
        seconds_generate=generated,
        seconds_validate=validated,
        peak_rss_mb=peak_kib / 1024,
        problems=check_card(card, feed, cap),
        card=card,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--max-rss-mb", type=float, default=300.0)
    parser.add_argument("--workdir", type=Path, help="keep the feed here (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="conformance-load-") as temp:
        workdir = args.workdir or Path(temp)
        workdir.mkdir(parents=True, exist_ok=True)
        outcome = run(args.resources, args.jobs, workdir)
    counts = outcome.card["counts"]
    print(
        f"resources written     {outcome.resources:,} ({outcome.defective:,} records with "
        f"defects, {outcome.defective / max(1, outcome.resources):.1%})"
    )
    print(f"generated in          {outcome.seconds_generate:.1f} s")
    print(
        f"validated in          {outcome.seconds_validate:.1f} s with --jobs {args.jobs} "
        f"({counts['records_read'] / outcome.seconds_validate:,.0f} records/s)"
    )
    print(f"peak RSS              {outcome.peak_rss_mb:.0f} MB (target {args.max_rss_mb:.0f})")
    print(
        f"records read          {counts['records_read']:,} = {counts['records_validated']:,} "
        f"validated + {counts['records_unparseable']:,} unparseable"
    )
    print(
        f"findings              {counts['findings']:,} counted, "
        f"{len(outcome.card['findings']):,} examples kept"
    )
    problems = list(outcome.problems)
    if outcome.peak_rss_mb > args.max_rss_mb:
        problems.append(f"peak RSS {outcome.peak_rss_mb:.0f} MB over {args.max_rss_mb:.0f} MB")
    for problem in problems:
        print(f"FAIL: {problem}")
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

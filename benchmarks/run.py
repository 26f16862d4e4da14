"""Speed and memory benchmark of ``conformance validate`` against its peers.

    python benchmarks/run.py                       # 10k and 100k resources (a few minutes)
    python benchmarks/run.py --sizes 10k,100k,1M   # add the 1M-resource feed
    python benchmarks/run.py --quick               # 2k resources: a smoke run

For each size it generates (once; cached under ``benchmarks/.feeds/``) a synthetic ICS
feed, runs ``conformance validate`` on it in a fresh process with ``--jobs 1`` and
``--jobs 2``, and measures wall time, throughput (resources per second, start-up
included) and peak memory: the largest process's peak RSS (``wait4`` rusage, as
``/usr/bin/time`` reports it) and, for parallel runs, the peak of the whole process
tree's RSS (sampled from ``/proc`` every 0.2 s). It also times validating one small file
from a cold process, checks scaling (10x the data should cost at most 11x the time, for
feeds and for single Bundles), and measures the peers on the same data in this process:
``fhir.resources`` (R4B, structure only) and python ``jsonschema`` (official R4 schema,
on a sample). Prints a Markdown report and writes JSON to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# After site-packages: the installed build (compiled or pure) is measured where there is
# one, else the sources.
sys.path.append(str(REPO))
sys.path.insert(0, str(HERE))

import peers  # noqa: E402

FEEDS = HERE / ".feeds"
RESULTS = HERE / "results"
RESOURCES_PER_PATIENT = 22.9  # what generate_feed writes on average (plus 11 shared)
SMALL_FILE = REPO / "sample_feeds" / "single" / "patient.json"
JSONSCHEMA_SAMPLE = 200
SEED = 1

TARGETS = {
    "ratio_vs_fhir_resources": 5.0,
    "ratio_vs_fhir_resources_stretch": 10.0,
    "peak_rss_mb_1m": 300.0,
    "startup_seconds": 0.5,
    "scaling_10x": 11.0,
}


def parse_size(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    scale = 1
    if text.endswith("k"):
        scale, text = 1000, text[:-1]
    elif text.endswith("m"):
        scale, text = 1_000_000, text[:-1]
    return int(float(text) * scale)


def label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


# --------------------------------------------------------------------------- machine


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    except (ValueError, OSError, AttributeError):
        mem = None
    from importlib.metadata import version

    from conformance.__about__ import __version__
    from conformance.compiled import build_kind

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_mb": mem,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "conformance": __version__,
        "build": build_kind(),
        "fhir.resources": version("fhir.resources"),
        "jsonschema": version("jsonschema"),
        "orjson": version("orjson"),
    }


# --------------------------------------------------------------------------- data


@dataclass(slots=True)
class Feed:
    size: int
    root: Path
    resources: int
    files: list[Path]


def feed_for(size: int, cache: Path = FEEDS) -> Feed:
    """A defect-free generated feed of about ``size`` FHIR resources (cached)."""
    from conformance.samples import generate_feed

    root = cache / f"feed-{label(size)}-s{SEED}"
    done = root / ".done.json"
    if not done.is_file():
        if root.exists():
            for old in root.iterdir():
                old.unlink()
        patients = max(1, round((size - 11) / RESOURCES_PER_PATIENT))
        made = generate_feed(root, patients=patients, seed=SEED, overwrite=True)
        resources = sum(n for kind, n in made.counts.items() if not kind.startswith("sitrep"))
        done.write_text(json.dumps({"resources": resources, "patients": patients}))
    resources = json.loads(done.read_text())["resources"]
    files = sorted(root.glob("*.ndjson"))
    return Feed(size, root, resources, files)


def bundle_for(size: int, cache: Path = FEEDS) -> tuple[Path, int]:
    """One collection Bundle of about ``size`` entries (cached)."""
    from conformance.samples import iter_resources

    path = cache / f"bundle-{label(size)}-s{SEED}.json"
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        patients = max(1, round((size - 11) / RESOURCES_PER_PATIENT))
        partial = path.with_suffix(".part")
        count = 0
        with partial.open("wb") as out:
            out.write(b'{"resourceType":"Bundle","id":"bench","type":"collection","entry":[')
            for resource in iter_resources(patients=patients, seed=SEED):
                if count:
                    out.write(b",")
                url = f"https://synthetic.invalid/fhir/{resource['resourceType']}/{resource['id']}"
                out.write(orjson.dumps({"fullUrl": url, "resource": resource}))
                count += 1
            out.write(b"]}")
        partial.rename(path)
    with path.open("rb") as stream:
        entries = orjson.loads(stream.read())["entry"]
    return path, len(entries)


# --------------------------------------------------------------------------- running


def _tree_rss(root: int) -> tuple[int, int]:
    """Resident bytes of ``root`` and all its descendants, and how many they are (Linux)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
            fields = stat[stat.rindex(b")") + 2 :].split()
            pid = int(entry.name)
            children.setdefault(int(fields[1]), []).append(pid)
            rss[pid] = int(fields[21]) * page
        except (OSError, ValueError, IndexError):
            continue
    total, count, stack = 0, 0, [root]
    while stack:
        pid = stack.pop()
        if pid in rss:
            total += rss[pid]
            count += 1
        stack.extend(children.get(pid, []))
    return total, count


@dataclass(slots=True)
class Run:
    wall: float
    max_rss_mb: float
    tree_rss_mb: float | None
    processes: int
    exit_code: int
    cpu_seconds: float
    records: int | None = None
    scorecard_seconds: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def run_validate(inputs: list[Path], jobs: int, sample_tree: bool = True) -> Run:
    """``conformance validate`` in a fresh process; wall time and peak memory."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "card.json"
        cmd = [
            sys.executable,
            "-P",  # not the working directory first: the build this process imports
            "-m",
            "conformance",
            "validate",
            *map(str, inputs),
            "--format",
            "json",
            "--output",
            str(out),
            "--no-progress",
            "--jobs",
            str(jobs),
        ]
        peak = 0
        processes = 1
        stop = threading.Event()
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=_child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

        def sample() -> None:
            nonlocal peak, processes
            while not stop.wait(0.2):
                total, count = _tree_rss(proc.pid)
                peak = max(peak, total)
                processes = max(processes, count)

        sampler = threading.Thread(target=sample, daemon=True)
        if sample_tree and Path("/proc").is_dir():
            sampler.start()
        assert proc.stderr is not None
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        stop.set()
        if sampler.is_alive():
            sampler.join()
        err = proc.stderr.read().decode("utf-8", "replace")
        proc.stderr.close()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"conformance validate failed ({proc.returncode}): {err[-2000:]}")
        card = json.loads(out.read_text(encoding="utf-8"))
    return Run(
        wall=wall,
        max_rss_mb=usage.ru_maxrss / 1024,  # kilobytes on Linux
        tree_rss_mb=peak / (1024 * 1024) if peak else None,
        processes=processes,
        exit_code=proc.returncode,
        # the child's CPU and its reaped workers' (Linux adds those into wait4's usage)
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        records=card["counts"]["records_read"],
        scorecard_seconds=card["run"]["duration_seconds"],
    )


def _child_env() -> dict[str, str]:
    """The environment of ``conformance validate``: it imports the same conformance as this
    process (the installed build, else the sources)."""
    import conformance

    env = dict(os.environ)
    root = Path(conformance.__file__).resolve().parent.parent
    if root == REPO:  # not installed: the sources, as this process imports them
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [env.get("PYTHONPATH"), str(REPO)]))
    return env


def startup(repeats: int) -> dict[str, Any]:
    walls = [run_validate([SMALL_FILE], 1, sample_tree=False).wall for _ in range(repeats)]
    return {
        "file": SMALL_FILE.relative_to(REPO).as_posix(),
        "runs": [round(w, 3) for w in walls],
        "median_seconds": round(statistics.median(walls), 3),
        "min_seconds": round(min(walls), 3),
    }


# --------------------------------------------------------------------------- report


def fmt(x: float | None, digits: int = 1) -> str:
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"


def verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("met" if ok else "**not met**")


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        f"Benchmark {result['date']} — `{result['command']}`",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), "
        f"{fmt(m['memory_mb'] / 1024 if m['memory_mb'] else None)} GiB; Python {m['python']}; "
        f"load average at start {m['load_average']}; conformance {m['conformance']} "
        f"({m.get('build', 'build not recorded')}), "
        f"fhir.resources {m['fhir.resources']}, jsonschema {m['jsonschema']}.",
        "",
        "| feed | resources | jobs (processes seen) | wall (s) | resources/s | µs CPU per "
        "record (all processes) | peak RSS, largest process (MB) | peak RSS, all processes "
        "(MB) | x fhir.resources |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for feed in result["feeds"]:
        peer = feed["fhir_resources"]["per_second"]
        for run in feed["runs"]:
            rate = run["resources_per_second"]
            lines.append(
                f"| {feed['label']} | {feed['resources']:,} | {run['jobs']} "
                f"({run.get('processes', '?')}) | "
                f"{fmt(run['wall_seconds'], 2)} | {fmt(rate, 0)} | "
                f"{fmt(run.get('cpu_us_per_record'), 1)} | {fmt(run['max_rss_mb'], 0)} | "
                f"{fmt(run['tree_rss_mb'], 0)} | {fmt(rate / peer if peer else None, 1)} |"
            )
    lines += ["", "| peer (same data, one core, in-process) | resources | resources/s | note |"]
    lines.append("| --- | ---: | ---: | --- |")
    for feed in result["feeds"]:
        for key in ("fhir_resources", "jsonschema"):
            peer = feed.get(key)
            if peer and "name" in peer:  # not measured with --no-peers
                lines.append(
                    f"| {peer['name']} ({feed['label']} feed) | {peer['resources']:,} | "
                    f"{fmt(peer['per_second'], 0)} | {peer['note']} |"
                )
    s = result["startup"]
    lines += [
        "",
        f"Start-up: validating `{s['file']}` from a cold process: median "
        f"{s['median_seconds']} s, min {s['min_seconds']} s (runs {s['runs']}).",
    ]
    if result["scaling"]:
        lines += ["", "| scaling | small | large | time ratio (10x data) | target <= 11x |"]
        lines.append("| --- | ---: | ---: | ---: | --- |")
        for sc in result["scaling"]:
            lines.append(
                f"| {sc['what']} | {sc['small']} ({fmt(sc['small_seconds'], 2)} s) | "
                f"{sc['large']} ({fmt(sc['large_seconds'], 2)} s) | {fmt(sc['ratio'], 2)} | "
                f"{verdict(None if sc['ratio'] is None else sc['ratio'] <= 11.0)} |"
            )
    lines += ["", "| target | measured | |", "| --- | --- | --- |"]
    for t in result["targets"]:
        lines.append(f"| {t['target']} | {t['measured']} | {verdict(t['met'])} |")
    return "\n".join(lines) + "\n"


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    biggest = max(result["feeds"], key=lambda f: f["resources"], default=None)
    if biggest is not None and biggest["fhir_resources"]["per_second"]:
        peer = biggest["fhir_resources"]["per_second"]
        for run in biggest["runs"]:
            ratio = run["resources_per_second"] / peer
            out.append(
                {
                    "target": f">= 5x fhir.resources (stretch 10x), {biggest['label']}, "
                    f"jobs {run['jobs']}",
                    "measured": f"{ratio:.1f}x",
                    "met": ratio >= TARGETS["ratio_vs_fhir_resources"],
                }
            )
    for feed in result["feeds"]:
        if feed["size"] >= 1_000_000:
            for run in feed["runs"]:
                rss = run["max_rss_mb"]
                out.append(
                    {
                        "target": f"peak RSS < 300 MB, {feed['label']}, jobs {run['jobs']} "
                        "(largest process)",
                        "measured": f"{rss:.0f} MB",
                        "met": rss < TARGETS["peak_rss_mb_1m"],
                    }
                )
    s = result["startup"]["median_seconds"]
    out.append(
        {
            "target": "one small file < 0.5 s from cold",
            "measured": f"{s} s",
            "met": s < TARGETS["startup_seconds"],
        }
    )
    return out


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    cli = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cli.add_argument("--sizes", default="10k,100k", help="feed sizes (default 10k,100k)")
    cli.add_argument(
        "--bundle-sizes",
        default=None,
        help="Bundle sizes for the linearity check (default 10k,100k; 1k,10k with --quick; "
        "none to skip)",
    )
    cli.add_argument("--jobs", default="1,2", help="--jobs values to run (default 1,2)")
    cli.add_argument("--quick", action="store_true", help="a 2k-resource smoke run")
    cli.add_argument("--no-peers", action="store_true", help="skip the peers")
    cli.add_argument("--startup-runs", type=int, default=5)
    cli.add_argument("--feeds", type=Path, default=FEEDS, help="where generated feeds are cached")
    cli.add_argument(
        "--output", type=Path, default=RESULTS / "latest.json", help="JSON results file"
    )
    args = cli.parse_args(argv)
    sizes = [parse_size(s) for s in ("2k" if args.quick else args.sizes).split(",") if s]
    bundle_text = args.bundle_sizes or ("1k,10k" if args.quick else "10k,100k")
    bundle_sizes = [parse_size(s) for s in bundle_text.split(",") if s and s != "none"]
    jobs_list = [int(j) for j in args.jobs.split(",") if j]
    startup_runs = 2 if args.quick else args.startup_runs
    jsonschema_sample = 20 if args.quick else JSONSCHEMA_SAMPLE
    command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])

    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "command": command.strip(),
        "machine": machine(),
        "feeds": [],
        "scaling": [],
    }
    log = sys.stderr
    for size in sizes:
        log.write(f"feed {label(size)}: generating/caching...\n")
        feed = feed_for(size, args.feeds)
        entry: dict[str, Any] = {
            "size": size,
            "label": label(size),
            "resources": feed.resources,
            "runs": [],
        }
        for jobs in jobs_list:
            log.write(f"feed {label(size)}: conformance validate --jobs {jobs}...\n")
            run = run_validate([feed.root], jobs)
            entry["runs"].append(
                {
                    "jobs": jobs,
                    "wall_seconds": round(run.wall, 3),
                    "scorecard_seconds": run.scorecard_seconds,
                    "resources_per_second": round(feed.resources / run.wall, 1),
                    "cpu_seconds": round(run.cpu_seconds, 3),
                    "cpu_us_per_record": round(1e6 * run.cpu_seconds / run.records, 1)
                    if run.records
                    else None,
                    "max_rss_mb": round(run.max_rss_mb, 1),
                    "tree_rss_mb": round(run.tree_rss_mb, 1) if run.tree_rss_mb else None,
                    "processes": run.processes,
                    "records_read": run.records,
                    "exit_code": run.exit_code,
                }
            )
        if not args.no_peers:
            log.write(f"feed {label(size)}: fhir.resources...\n")
            entry["fhir_resources"] = peers.fhir_resources_feed(feed.files).to_dict()
            if size == sizes[0]:
                log.write(f"feed {label(size)}: jsonschema ({jsonschema_sample})...\n")
                small = peers.sample_resources(feed.files, feed.resources, jsonschema_sample)
                entry["jsonschema"] = peers.jsonschema_peer(small).to_dict()
        else:
            entry["fhir_resources"] = {"per_second": 0.0}
        result["feeds"].append(entry)

    by_size = {f["size"]: f for f in result["feeds"]}
    for size in sizes:
        big = by_size.get(size * 10)
        if big is None:
            continue
        small = by_size[size]
        for s_run, b_run in zip(small["runs"], big["runs"], strict=True):
            # Per resource, so a feed that is not exactly 10x bigger is compared fairly.
            for key, what in (
                ("wall_seconds", "wall, start-up included"),
                ("scorecard_seconds", "engine run, as the scorecard times it"),
            ):
                per_small = s_run[key] / small["resources"]
                per_big = b_run[key] / big["resources"]
                result["scaling"].append(
                    {
                        "what": f"feed, jobs {s_run['jobs']} ({what})",
                        "small": small["label"],
                        "large": big["label"],
                        "small_seconds": s_run[key],
                        "large_seconds": b_run[key],
                        "ratio": round(10 * per_big / per_small, 2),
                    }
                )
    bundles: list[tuple[int, int, Run]] = []
    for size in bundle_sizes:
        log.write(f"bundle {label(size)}: generating/caching and validating...\n")
        path, entries = bundle_for(size, args.feeds)
        bundles.append((size, entries, run_validate([path], 1)))
    result["bundles"] = [
        {
            "size": size,
            "entries": entries,
            "wall_seconds": round(run.wall, 3),
            "scorecard_seconds": run.scorecard_seconds,
            "max_rss_mb": round(run.max_rss_mb, 1),
        }
        for size, entries, run in bundles
    ]
    for (s1, e1, r1), (s2, e2, r2) in itertools.pairwise(bundles):
        if s2 != 10 * s1:
            continue
        for t1, t2, what in (
            (r1.wall, r2.wall, "wall, start-up included"),
            (r1.scorecard_seconds or 0.0, r2.scorecard_seconds or 0.0, "engine run"),
        ):
            result["scaling"].append(
                {
                    "what": f"one Bundle ({what})",
                    "small": f"{label(s1)} entries",
                    "large": f"{label(s2)} entries",
                    "small_seconds": round(t1, 3),
                    "large_seconds": round(t2, 3),
                    "ratio": round(10 * (t2 / e2) / (t1 / e1), 2) if t1 > 0 else None,
                }
            )
    log.write("start-up...\n")
    result["startup"] = startup(startup_runs)
    result["targets"] = targets(result)
    result["markdown"] = markdown(result)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(result["markdown"])
    log.write(f"results written to {args.output}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Profile the engine's own overhead: everything but the FHIR validator.

    python benchmarks/profile_engine.py [--size 100k] [--top 25] [--save run.prof]

Runs ``validate(feed, jobs=1)`` under cProfile on a generated feed (the benchmark's
cache), then splits the time between the FHIR validator (code under
``conformance/fhir/`` and everything it calls) and the rest: reading, JSON parsing,
dispatch, identity and other checks, findings. Time of a function reached from both
sides is split in proportion to the cumulative time each side's callers spend in it.
Prints Markdown and writes ``benchmarks/results/profile.json``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from run import FEEDS, RESULTS, feed_for, label, parse_size  # noqa: E402

FHIR_DIR = "/conformance/fhir/"

Func = tuple[str, int, str]


def is_validator(func: Func) -> bool:
    return FHIR_DIR in func[0]


def is_setup(func: Func) -> bool:
    """Opening the session (plugins, the standard, compiling checks): once per run."""
    path, _line, name = func
    return (path.endswith("engine/session.py") and name == "open") or name == "build_plugins"


def share_of(stats: dict[Func, Any], seed: Any) -> dict[Func, float]:
    """For each function, the fraction of its time spent on behalf of ``seed`` functions."""
    share = {f: 1.0 if seed(f) else 0.0 for f in stats}
    for _ in range(30):  # propagate down the call graph until it settles
        changed = 0.0
        for func, (_cc, _nc, _tt, _ct, callers) in stats.items():
            if seed(func) or not callers:
                continue
            weight = sum(edge[3] for edge in callers.values())
            if weight <= 0:
                continue
            value = sum(share.get(c, 0.0) * edge[3] for c, edge in callers.items()) / weight
            changed += abs(value - share[func])
            share[func] = value
        if changed < 1e-9:
            break
    return share


def where(func: Func) -> str:
    path, line, name = func
    if path == "~":
        return name  # a builtin, e.g. <method 'get' of 'dict' objects>
    marker = "/conformance/"
    short = path[path.rindex(marker) + 1 :] if marker in path else Path(path).name
    return f"{short}:{line} {name}"


def module_of(func: Func) -> str:
    path = func[0]
    if path == "~":
        return "(builtins)"
    for marker in ("/conformance/", "site-packages/"):
        if marker in path:
            rest = path[path.rindex(marker) + len(marker) :]
            if marker == "/conformance/":
                return "conformance/" + rest
            return rest.split("/", 1)[0] + " (package)"
    if path.startswith("<"):
        return path
    return f"{Path(path).name} (stdlib)"


def main(argv: list[str] | None = None) -> int:
    cli = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cli.add_argument("--size", default="100k")
    cli.add_argument("--top", type=int, default=25)
    cli.add_argument("--feeds", type=Path, default=FEEDS)
    cli.add_argument("--save", type=Path, help="also write the raw cProfile data here")
    cli.add_argument("--output", type=Path, default=RESULTS / "profile.json")
    args = cli.parse_args(argv)

    from conformance.engine.run import validate

    feed = feed_for(parse_size(args.size), args.feeds)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    card = validate([feed.root], jobs=1)
    profiler.disable()
    wall = time.perf_counter() - started
    if args.save:
        profiler.dump_stats(args.save)
    stats: dict[Func, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    share = share_of(stats, is_validator)
    setup = share_of(stats, is_setup)
    total = sum(v[2] for v in stats.values())
    in_validator = sum(v[2] * share[f] for f, v in stats.items())
    overhead_setup = sum(v[2] * (1 - share[f]) * setup[f] for f, v in stats.items())
    per_record = {f: v[2] * (1 - share[f]) * (1 - setup[f]) for f, v in stats.items()}
    overhead = sum(per_record.values())
    rows = sorted(((t, stats[f][1], f) for f, t in per_record.items()), reverse=True)[: args.top]
    by_module: dict[str, float] = defaultdict(float)
    for f, t in per_record.items():
        by_module[module_of(f)] += t
    modules = sorted(by_module.items(), key=lambda kv: kv[1], reverse=True)[:15]

    records = card.data["counts"]["records_read"]
    lines = [
        f"Profile of `validate({feed.root.name}, jobs=1)`: {records:,} records, "
        f"{wall:.1f} s wall under cProfile (profiling slows Python code about 2x).",
        "",
        f"- profiled time {total:.1f} s: FHIR validator {in_validator:.1f} s "
        f"({100 * in_validator / total:.0f} %, its set-up included); engine set-up "
        f"(standard loading, check compiling, plugins) {overhead_setup:.1f} s "
        f"({100 * overhead_setup / total:.0f} %); engine per-record overhead "
        f"{overhead:.1f} s ({100 * overhead / total:.0f} %, "
        f"{1e6 * overhead / max(1, records):.0f} µs per record under the profiler)",
        "",
        "| engine per-record overhead by module | seconds | % of overhead |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| {m} | {s:.2f} | {100 * s / overhead:.1f} |" for m, s in modules]
    lines += [
        "",
        "| top per-record overhead functions (own time) | calls | seconds | % of overhead |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [
        f"| `{where(f)}` | {calls:,} | {t:.2f} | {100 * t / overhead:.1f} |" for t, calls, f in rows
    ]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "feed": label(feed.size),
                "records": records,
                "wall_seconds": round(wall, 2),
                "profiled_seconds": round(total, 2),
                "validator_seconds": round(in_validator, 2),
                "setup_seconds": round(overhead_setup, 2),
                "overhead_seconds": round(overhead, 2),
                "overhead_by_module": {m: round(s, 3) for m, s in modules},
                "top_overhead": [
                    {"function": where(f), "calls": calls, "seconds": round(t, 3)}
                    for t, calls, f in rows
                ],
                "markdown": text,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

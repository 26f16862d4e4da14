"""Snapshot scorecards and FHIR issues, to prove a refactoring changes no result.

    python tools/scorecard_snapshot.py write DIR            # before the change
    python tools/scorecard_snapshot.py compare DIR          # after: exit 1 on any difference
    python tools/scorecard_snapshot.py write DIR --fhir-dir ../shared/fhir/r4-examples

It validates the sample feeds, the single-file samples and generated feeds with every
injectable defect (two seeds, serial and ``--jobs 2``) and writes each JSON scorecard
without its ``run`` key (start time and duration: the only keys that change between two
runs on the same input). With ``--fhir-dir`` (repeatable) it also records the base-R4
validator's issues for every JSON resource under those folders, so that a change of the
FHIR engine can be compared issue by issue on material outside the test suite.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SAMPLES = ["qwo-conformant", "qr1-warnings", "qop-failing"]
SINGLES = ["single/patient.json", "single/bundle.json"]
GENERATED = [(7, 40), (11, 120)]


def _validate(target: Path, cwd: Path, jobs: int) -> dict[str, Any]:
    """Run the command line on ``target``, named relative to ``cwd`` (paths in the card)."""
    cmd = [sys.executable, "-m", "conformance", "validate", str(target), "--format", "json"]
    cmd += ["--jobs", str(jobs), "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.strip()}")
    card: dict[str, Any] = json.loads(done.stdout)
    card.pop("run", None)
    return card


def _generated(work: Path) -> list[tuple[str, Path]]:
    """Generated feeds in ``work``, each named relative to it."""
    from conformance.samples import NOT_INJECTABLE, SUPPORTED_DEFECTS, generate_feed

    out = []
    for seed, patients in GENERATED:
        defects = {d: 0.05 for d in SUPPORTED_DEFECTS if d not in NOT_INJECTABLE}
        folder = work / f"generated-{seed}"
        generate_feed(folder, patients=patients, seed=seed, defects=defects)
        out.append((f"generated-{seed}", folder.relative_to(work)))
    return out


def _fhir_issues(folders: list[Path]) -> dict[str, Any]:
    import orjson

    from conformance.fhir import FhirValidator

    validator = FhirValidator.base()
    out: dict[str, Any] = {}
    for folder in folders:
        for path in sorted(folder.rglob("*.json")):
            try:
                resource = orjson.loads(path.read_bytes())
            except orjson.JSONDecodeError:
                continue
            if not isinstance(resource, dict) or "resourceType" not in resource:
                continue
            issues = validator.validate(resource)
            out[str(path)] = sorted(
                [i.severity, i.code, i.expression, i.message, i.source] for i in issues
            )
    return out


def snapshot(fhir_dirs: list[Path]) -> dict[str, Any]:
    cards: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        targets = [(name, REPO, Path("sample_feeds", name)) for name in SAMPLES + SINGLES]
        targets += [(name, work, folder) for name, folder in _generated(work)]
        for name, cwd, target in targets:
            for jobs in (1, 2):
                cards[f"{name} --jobs {jobs}"] = _validate(target, cwd, jobs)
    if fhir_dirs:
        cards["fhir-issues"] = _fhir_issues(fhir_dirs)
    return cards


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["write", "compare"])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--fhir-dir", type=Path, action="append", default=[])
    args = parser.parse_args()
    current = snapshot(args.fhir_dir)
    if args.action == "write":
        args.folder.mkdir(parents=True, exist_ok=True)
        for name, card in current.items():
            path = args.folder / (name.replace("/", "_").replace(" ", "") + ".json")
            path.write_text(json.dumps(card, indent=1, sort_keys=True) + "\n")
        print(f"wrote {len(current)} snapshots to {args.folder}")
        return 0
    differences = 0
    for name, card in current.items():
        path = args.folder / (name.replace("/", "_").replace(" ", "") + ".json")
        if not path.exists():
            print(f"{name}: no snapshot in {args.folder}")
            differences += 1
            continue
        before = path.read_text().splitlines()
        after = (json.dumps(card, indent=1, sort_keys=True) + "\n").splitlines()
        if before != after:
            differences += 1
            print(f"== {name} differs:")
            diff = list(difflib.unified_diff(before, after, "before", "after", lineterm=""))
            print("\n".join(diff[:60]), flush=True)
    print(f"{len(current)} snapshots compared, {differences} differ")
    return 1 if differences else 0


if __name__ == "__main__":
    raise SystemExit(main())

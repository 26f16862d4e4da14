"""Regenerate sample_feeds/ deterministically from conformance.samples.

    python tools/make_sample_feeds.py            # rewrite sample_feeds/
    python tools/make_sample_feeds.py --check    # exit 1 if sample_feeds/ is out of date

Every feed is synthetic (999 test-range NHS Numbers, made-up people) and marked
``environment: test``. Each feed folder gets a README.md (ignored by the validator as
documentation) that ends with what ``conformance validate`` prints for it, from a real
run (so ``--check`` also fails when the validator's output changed); the exact list of
injected defects goes to ``sample_feeds/expected/``.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from conformance.samples import (  # noqa: E402
    GeneratedFeed,
    generate_feed,
    iter_patient_bundles,
)

OUTPUT_HEADING = "## What `conformance validate` prints"
SINGLE_COMMAND = ("single", ("--environment", "test"))
"""The loose-files sample is validated with ``--environment test``: its NHS Numbers are
from the 999 test range, which only a test feed may carry (MDSS-ID-03)."""


@dataclass(frozen=True)
class FeedSpec:
    name: str
    ics: str
    sender: str
    patients: int
    seed: int
    verdict: str
    summary: str
    defects: dict[str, float] = field(default_factory=dict)


FEEDS = (
    FeedSpec(
        "qwo-conformant",
        "QWO",
        "RXX",
        200,
        101,
        "**pass**: every MUST and SHOULD met (the only findings are warnings about the "
        "patients who legitimately have no NHS Number).",
        "A clean monthly feed: no defects injected. About 1% of patients legitimately have "
        "no NHS Number and carry an NHSNumberUnavailableReason extension instead.",
    ),
    FeedSpec(
        "qr1-warnings",
        "QR1",
        "RYX",
        150,
        202,
        "**pass with warnings**: every MUST met; SHOULD-level requirements fall short.",
        "Only SHOULD-level defects, at rates seen in real feeds.",
        {
            "MDSS-ID-06": 0.15,
            "MDSS-ORG-04": 0.25,
            "MDSS-REF-03": 0.30,
            "MDSS-STR-04": 0.10,
            "MDSS-ID-07": 0.05,
        },
    ),
    FeedSpec(
        "qop-failing",
        "QOP",
        "RZX",
        150,
        303,
        "**fail**: several MUST requirements broken.",
        "Several MUSTs broken the way real feeds break them (wrong check digits, the "
        "British spelling of the ODS system, missing lastUpdated, dangling references, a "
        "few truncated NDJSON lines, a file changed after its manifest was written, bad "
        "SITREP rows), plus some SHOULD-level gaps.",
        {
            "MDSS-ID-02": 0.03,
            "MDSS-ORG-01": 0.20,
            "MDSS-TIME-01": 0.05,
            "MDSS-REF-01": 0.02,
            "MDSS-STR-01": 0.0015,
            "MDSS-PROV-02": 1.0,
            "MDSS-TAB-01": 0.03,
            "MDSS-ID-04": 0.08,
            "MDSS-TERM-05": 0.10,
            "MDSS-ORG-05": 0.05,
        },
    ),
)


def _readme(spec: FeedSpec, feed: GeneratedFeed) -> str:
    counts = Counter(d.requirement_id for d in feed.injected)
    lines = [
        f"# {spec.name}",
        "",
        f"Synthetic feed from ICS `{spec.ics}`, sender `{spec.sender}`, period "
        f"2026-11-01 to 2026-11-30, `environment: test`. {spec.summary}",
        "",
        f"Intended verdict: {spec.verdict}",
        "",
        "| file | records |",
        "| --- | ---: |",
    ]
    lines += [f"| `{p.name}` | {feed.counts[k]} |" for k, p in feed.paths.items()]
    lines += ["", "Injected defects (requirement: rate, places):", ""]
    if not counts:
        lines.append("- none")
    for req in sorted(counts):
        rate = spec.defects.get(req)
        how = f"rate {rate:g}" if rate is not None else "consequence of another defect"
        lines.append(f"- {req}: {how}, {counts[req]} injected")
    lines += [
        "",
        f"Every injected defect, with file and line: `../expected/{spec.name}.json`.",
        "Regenerate with `python tools/make_sample_feeds.py`; do not edit by hand.",
        "",
    ]
    return "\n".join(lines)


def output_section(card: dict[str, Any], command: str) -> str:
    """What ``command`` prints, in words and numbers read from its scorecard."""
    from conformance.scorecard.model import FailOn, Scorecard

    reqs = card["requirements"]
    not_met = [r for r in reqs if r["status"] in ("fail", "partial")]
    by_level = ", ".join(
        f"{sum(1 for r in not_met if r['level'] == level)} {level}"
        for level in ("MUST", "SHOULD", "MAY")
        if any(r["level"] == level for r in not_met)
    )
    met = sum(1 for r in reqs if r["status"] == "pass")
    na = sum(1 for r in reqs if r["status"] == "not-applicable")
    code = 1 if Scorecard(card).fails(FailOn.MUST) else 0
    std = card["standard"]
    lines = [
        OUTPUT_HEADING,
        "",
        f"From a run of `{command}` (generated; a test checks it is current):",
        "",
        f"- Verdict: **{card['verdict']}**, score **{card['score']:.1f}**, exit code **{code}**",
        f"- Requirements of {std['id']}@{std['version']}: {len(reqs)}; {met} met, "
        f"{len(not_met)} not met"
        + (f" ({by_level})" if by_level else "")
        + f", {na} not applicable",
        f"- Records: {card['counts']['records_read']} read, "
        f"{card['counts']['records_unparseable']} unparseable",
        f"- Findings: {card['counts']['findings']}",
    ]
    counts = [
        (r["id"], c, n) for r in reqs for c, n in sorted(r["codes"].items(), key=lambda x: -x[1])
    ]
    counts += [
        (rid, c, n)
        for rid, codes in card.get("input_problems", {}).items()
        for c, n in codes.items()
    ]
    if counts:
        lines += ["", "| requirement | code | findings |", "| --- | --- | ---: |"]
        lines += [f"| {rid} | `{c}` | {n} |" for rid, c, n in counts]
    return "\n".join(lines) + "\n"


def _validated(folder: Path, *args: str) -> dict[str, Any]:
    from conformance import validate

    environment = args[args.index("--environment") + 1] if "--environment" in args else None
    data: dict[str, Any] = validate([folder], environment=environment, jobs=1).data
    return data


def _dump(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def build(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    expected = out / "expected"
    expected.mkdir(exist_ok=True)
    for spec in FEEDS:
        target = out / spec.name
        if target.exists():
            shutil.rmtree(target)
        feed = generate_feed(
            target,
            patients=spec.patients,
            seed=spec.seed,
            defects=spec.defects,
            ics=spec.ics,
            sender=spec.sender,
            environment="test",
        )
        command = f"conformance validate sample_feeds/{spec.name}"
        text = _readme(spec, feed) + "\n" + output_section(_validated(target), command)
        (target / "README.md").write_text(text, encoding="utf-8")
        listed = [asdict(d) for d in feed.injected]
        (expected / f"{spec.name}.json").write_text(_dump(listed), encoding="utf-8")

    single = out / "single"
    single.mkdir(exist_ok=True)
    bundle = next(iter_patient_bundles(patients=1, seed=404))
    patient = bundle["entry"][0]["resource"]
    (single / "patient.json").write_text(_dump(patient), encoding="utf-8")
    (single / "bundle.json").write_text(_dump(bundle), encoding="utf-8")
    name, args = SINGLE_COMMAND
    command = " ".join(["conformance validate", f"sample_feeds/{name}", *args])
    (single / "README.md").write_text(
        "# single\n\nOne valid synthetic Patient (`patient.json`) and a small pretty-printed "
        "collection Bundle (`bundle.json`: one patient's resources plus the Organization and "
        "Location resources they reference; every reference resolves inside it). Both "
        "pass base R4 and the MDSS profiles. As loose files they have no manifest, so the "
        "provenance requirements fail; and their NHS Numbers are from the 999 test range, "
        "which MDSS-ID-03 accepts only in a test feed, hence `--environment test`.\n\n"
        + output_section(_validated(single, *args), command),
        encoding="utf-8",
    )


def _same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    _match, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    if mismatch or errors:
        return False
    return all(_same_tree(a / d, b / d) for d in cmp.common_dirs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "sample_feeds")
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    if not args.check:
        build(args.out)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "sample_feeds"
        build(fresh)
        if not _same_tree(fresh, args.out):
            print(f"{args.out} is out of date: run tools/make_sample_feeds.py", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

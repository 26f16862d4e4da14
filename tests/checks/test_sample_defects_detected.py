"""Every defect the sample generator injects for these requirements is found where it was put."""

from __future__ import annotations

from pathlib import Path

from conformance.engine.run import validate
from conformance.limits import Limits
from conformance.samples import generate_feed
from tests.checks.helpers import subset_standard

MINE = (
    "MDSS-ORG-01", "MDSS-ORG-02", "MDSS-ORG-03", "MDSS-ORG-04", "MDSS-ORG-05",
    "MDSS-TERM-01", "MDSS-TERM-02", "MDSS-TERM-03", "MDSS-TERM-04", "MDSS-TERM-05",
    "MDSS-REF-01", "MDSS-REF-02", "MDSS-REF-03",
    "MDSS-TIME-01", "MDSS-TIME-02", "MDSS-TIME-03",
    "MDSS-COMP-01", "MDSS-COMP-02",
    "MDSS-OUT-01", "MDSS-OUT-02",
)  # fmt: skip


def test_injected_defects_are_detected(tmp_path: Path) -> None:
    feed = generate_feed(tmp_path / "feed", patients=25, seed=1, defects=dict.fromkeys(MINE, 0.3))
    injected = [d for d in feed.injected if d.requirement_id in MINE]
    assert {d.requirement_id for d in injected} == set(MINE), "every requirement injected"
    standard = subset_standard(tmp_path / "std", MINE)
    card = validate(
        [feed.root], standard, limits=Limits(findings_per_requirement=100_000), jobs=1
    ).data
    found = {
        (f["requirement"], Path(f["location"].get("file", "")).name, f["location"].get("line"))
        for f in card["findings"]
    }
    missed = [d for d in injected if (d.requirement_id, Path(d.file).name, d.line) not in found]
    assert missed == []
    status = {r["id"]: r["status"] for r in card["requirements"]}
    assert all(status[r] != "pass" for r in ("MDSS-ORG-01", "MDSS-TERM-01", "MDSS-TIME-03"))


def test_clean_sample_feed_meets_these_requirements(tmp_path: Path) -> None:
    feed = generate_feed(tmp_path / "feed", patients=15, seed=4)
    standard = subset_standard(tmp_path / "std", MINE)
    card = validate([feed.root], standard, jobs=1).data
    status = {r["id"]: r["status"] for r in card["requirements"]}
    assert {s for s in status.values()} == {"pass"}, status
    # No error or warning from these checks on a clean feed, bar patients who
    # legitimately have no NHS Number (then no identifier: a must-support gap).
    noisy = [
        f
        for f in card["findings"]
        if f["severity"] != "information"
        and (f["requirement"], f["code"]) != ("MDSS-COMP-02", "must-support-missing")
    ]
    assert noisy == []

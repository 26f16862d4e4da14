"""The benchmark command runs end to end on a tiny size and writes its results."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "benchmarks" / "run.py"


@pytest.mark.slow
def test_benchmark_runs_on_a_tiny_feed(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--sizes",
            "300",
            "--bundle-sizes",
            "100",
            "--jobs",
            "1",
            "--startup-runs",
            "1",
            "--output",
            str(out),
            "--feeds",
            str(tmp_path / "feeds"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    feed = result["feeds"][0]
    assert feed["resources"] >= 250
    run = feed["runs"][0]
    assert run["records_read"] >= feed["resources"]  # the SITREP rows come on top
    assert run["resources_per_second"] > 0 and run["max_rss_mb"] > 10
    assert feed["fhir_resources"]["resources"] > 0
    assert feed["jsonschema"]["resources"] > 0
    assert result["startup"]["median_seconds"] > 0
    assert result["machine"]["cores"] >= 1
    assert "| feed | resources | jobs" in done.stdout
    assert any(t["target"].startswith("one small file") for t in result["targets"])


def test_sizes_parse() -> None:
    spec = importlib.util.spec_from_file_location("benchmarks_run", SCRIPT)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # dataclasses look their module up
    try:
        spec.loader.exec_module(bench)
    finally:
        del sys.modules[spec.name]
    assert [bench.parse_size(s) for s in ("10k", "100k", "1M", "2_500")] == [
        10_000,
        100_000,
        1_000_000,
        2_500,
    ]
    assert [bench.label(n) for n in (10_000, 1_000_000, 1234)] == ["10k", "1M", "1234"]

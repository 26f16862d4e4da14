"""Parallel runs give the scorecard of a serial run, byte for byte (but for ``run``)."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path
from typing import Any

import pytest

from conformance.engine.accumulate import Share
from conformance.engine.parallel import cut_points
from conformance.engine.run import Engine, RunSpec, validate
from conformance.samples import generate_feed
from tests.conftest import REPO

IDENTITY = Path(__file__).parent.parent / "fixtures" / "standards" / "identity"


def _without_run(card: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in card.items() if k != "run"}


def test_cut_points_are_line_boundaries_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "x.ndjson"
    data = b"".join(b'{"n": %d, "pad": "%s"}\n' % (i, b"x" * (i % 37)) for i in range(5000))
    path.write_bytes(data)
    ranges, sha = cut_points(path, 7)
    assert sha == hashlib.sha256(data).hexdigest()
    assert ranges[0].start == 0 and ranges[-1].end == len(data)
    for before, after in itertools.pairwise(ranges):
        assert before.end == after.start
    for r in ranges:
        assert r.start == 0 or data[r.start - 1 : r.start] == b"\n"
        assert data[: r.start].count(b"\n") + 1 == r.first_line


@pytest.mark.slow
def test_parallel_equals_serial_on_a_generated_feed_with_defects(tmp_path: Path) -> None:
    defects = {"MDSS-ID-02": 0.05, "MDSS-ID-08": 0.05, "MDSS-STR-01": 0.01, "MDSS-ID-05": 0.05}
    feed = generate_feed(tmp_path / "feed", patients=300, seed=7, defects=defects)
    serial = validate([feed.root], IDENTITY, jobs=1).data
    # Tiny chunks force the NDJSON files to be split into many byte ranges.
    spec = RunSpec(standard=str(IDENTITY), jobs=2, chunk_bytes=64 * 1024)
    parallel = Engine(spec).run([feed.root]).data
    assert _without_run(parallel) == _without_run(serial)
    assert serial["counts"]["records_unparseable"] > 0


@pytest.mark.slow
def test_parallel_equals_serial_on_the_failing_sample(tmp_path: Path) -> None:
    feed = REPO / "sample_feeds" / "qop-failing"
    serial = validate([feed], jobs=1).data
    parallel = Engine(RunSpec(jobs=2, chunk_bytes=256 * 1024)).run([feed]).data
    assert _without_run(parallel) == _without_run(serial)


def _dying_work(task: Any) -> Share:
    """A worker that dies (as if killed) when it reaches the Observations."""
    import os

    from conformance.engine import parallel

    if task.item.name.endswith("Observation.ndjson"):
        os._exit(9)
    return parallel._real_work(task)  # type: ignore[attr-defined, no-any-return]


def test_a_dead_worker_is_an_error_not_a_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed mid-run ends the run with a clear error naming the input."""
    from conformance.engine import parallel

    feed = generate_feed(tmp_path / "feed", patients=40, seed=3)
    monkeypatch.setattr(parallel, "_real_work", parallel._work, raising=False)
    monkeypatch.setattr(parallel, "_work", _dying_work)
    spec = RunSpec(standard=str(IDENTITY), jobs=2, chunk_bytes=1 << 30)
    with pytest.raises(parallel.WorkerDied, match=r"Observation\.ndjson"):
        Engine(spec).run([feed.root])

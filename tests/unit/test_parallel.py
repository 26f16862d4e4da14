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


@pytest.mark.pure_python
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


def test_a_file_bigger_than_its_fair_part_is_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below ``chunk_bytes`` a file is still cut when it holds most of the work."""
    from conformance.engine import parallel
    from conformance.readers.discovery import InputItem

    monkeypatch.setattr(parallel, "MIN_CHUNK_BYTES", 1000)
    big, small = tmp_path / "big.ndjson", tmp_path / "small.ndjson"
    big.write_bytes(b"".join(b'{"n": %d}\n' % i for i in range(2000)))
    small.write_bytes(b'{"n": 1}\n' * 50)
    items = [InputItem(big, "big.ndjson"), InputItem(small, "small.ndjson")]
    tasks, digests = parallel.plan(items, jobs=2, chunk_bytes=1 << 30)
    cut = [t for t in tasks if t.item.name == "big.ndjson"]
    assert len(cut) == 2 * parallel.TASKS_PER_JOB  # the cap: jobs x tasks per job
    assert [t.range is None for t in tasks if t.item.name == "small.ndjson"] == [True]
    assert digests == {"big.ndjson": hashlib.sha256(big.read_bytes()).hexdigest()}
    # A file no bigger than its fair part stays whole.
    tasks, digests = parallel.plan(items[1:], jobs=2, chunk_bytes=1 << 30)
    assert [t.range for t in tasks] == [None] and digests == {}


def test_shares_carry_plain_data(tmp_path: Path) -> None:
    """Check states travel as plain tuples: no Location objects to pickle and rebuild."""
    import pickle

    from conformance.engine.session import Session
    from conformance.engine.spec import RunSpec
    from conformance.readers.discovery import InputItem

    feed = generate_feed(tmp_path / "feed", patients=5, seed=3)
    session = Session.open(RunSpec(standard="mdss@1.0.0"))
    acc = session.accumulator()
    observations = feed.root / "Observation.ndjson"  # its patients are in another file
    session.read(InputItem(observations, "Observation.ndjson"), acc)
    names = [c.requirement.id for c in session.compiled.checks]
    waiting = acc.share.states[names.index("MDSS-REF-01")]
    assert waiting.example_count > 0  # references to patients not seen yet, with places
    assert b"Location" not in pickle.dumps(acc.share.states)


def test_plugins_given_as_objects_run_in_parallel_with_their_failures_once(
    tmp_path: Path,
) -> None:
    """Forked workers inherit the run's plugins, so given plugins no longer force --jobs 1."""
    from collections.abc import Sequence

    from conformance.engine.parallel import fork_available
    from conformance.plugin import hookimpl
    from conformance.plugin.manager import build_plugins

    if not fork_available():
        pytest.skip("workers cannot be forked here")

    class Broken:
        __name__ = "broken-plugin"

        @hookimpl
        def conformance_readers(self) -> Sequence[type[Any]]:
            raise RuntimeError("boom")

    feed = generate_feed(tmp_path / "feed", patients=20, seed=5)
    serial = validate([feed.root], IDENTITY, jobs=1).data
    plugins = build_plugins(extra=[Broken()], load_entry_points=False)
    spec = RunSpec(standard=str(IDENTITY), jobs=2, chunk_bytes=64 * 1024)
    card = Engine(spec, plugins=plugins).run([feed.root]).data
    assert card["plugins"]["failures"] == [
        {"plugin": "broken-plugin", "hook": "conformance_readers", "error": "RuntimeError: boom"}
    ]
    del card["plugins"], serial["plugins"]
    assert _without_run(card) == _without_run(serial)

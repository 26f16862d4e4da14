"""Nothing lost: records read = validated + unparseable, per file and in total, every run.

Checked on truncated gzip, broken lines, empty files and interrupted runs (a real process
stopped with SIGTERM or Ctrl-C writes a partial scorecard marked incomplete, never
Conformant); concurrent ``--record`` runs into one history database lose nothing.
"""

from __future__ import annotations

import gzip
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

import conformance
from conformance.engine import accumulate
from conformance.engine.accumulate import AccountingError
from conformance.samples import generate_feed, iter_resources
from conformance.scorecard.build import InputSummary
from tests.conftest import REPO, CliResult, ndjson, patient
from tests.hostile.hostile_support import run_file

Cli = Callable[..., CliResult]


def assert_accounts(card: dict[str, Any]) -> None:
    counts = card["counts"]
    assert counts["records_read"] == counts["records_validated"] + counts["records_unparseable"]
    assert counts["records_validated"] == sum(counts["by_resource_type"].values())
    assert counts["records_read"] == sum(i["records_read"] for i in card["inputs"])
    assert counts["records_unparseable"] == sum(i["records_unparseable"] for i in card["inputs"])
    for item in card["inputs"]:
        assert item["records_read"] == item["records_validated"] + item["records_unparseable"]


def _validate(cli: Cli, *args: Any) -> dict[str, Any]:
    result = cli("validate", *args, "-f", "json", "--no-progress", "--jobs", "1")
    assert result.code in (0, 1), result.err
    card: dict[str, Any] = result.json()
    assert_accounts(card)
    return card


def test_truncated_gzip_keeps_what_came_before(tmp_path: Path) -> None:
    plain = b"".join(orjson.dumps(r) + b"\n" for r in iter_resources(patients=30, seed=4))
    packed = gzip.compress(plain)
    for cut in (0.3, 0.6, 0.95):
        truncated = packed[: int(len(packed) * cut)]
        available = zlib.decompressobj(wbits=31).decompress(truncated)
        whole_lines = available.count(b"\n")
        path = tmp_path / f"cut{cut}.ndjson.gz"
        path.write_bytes(truncated)
        acc = run_file(path)
        assert acc.read == whole_lines > 0  # every complete record before the cut
        [issue] = acc.source_issues
        assert issue.code == "unreadable-input" and issue.location.line == whole_lines + 1


def test_broken_lines_and_empty_files_are_counted(cli: Cli, tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "mixed.ndjson").write_bytes(
        ndjson(patient(id="a"))
        + b'{"resourceType": "Patient", "id": \n'
        + b"\n   \n"
        + b"\xff\xfe not utf-8\n"
        + b"[]\n"
        + ndjson(patient(id="b"))
        + b'{"resourceType": "Patient"'  # truncated last line, no newline
    )
    (feed / "empty.ndjson").write_bytes(b"")
    (feed / "blank.ndjson").write_bytes(b"\n\n  \n")
    (feed / "empty.json").write_bytes(b"")
    (feed / "empty.csv").write_bytes(b"")
    (feed / "empty.ndjson.gz").write_bytes(gzip.compress(b""))
    (feed / "zero.ndjson.gz").write_bytes(b"\x1f\x8b")
    card = _validate(cli, feed)
    by_file = {i["file"].rsplit("/", 1)[-1]: i for i in card["inputs"]}
    assert by_file["mixed.ndjson"]["records_read"] == 6
    assert by_file["mixed.ndjson"]["records_unparseable"] == 4
    for name in ("empty.ndjson", "blank.ndjson", "empty.json", "empty.csv", "empty.ndjson.gz"):
        assert by_file[name]["records_read"] == 0
    empties = {
        f["location"]["file"].rsplit("/", 1)[-1]
        for f in card["findings"]
        if f["code"] == "empty-file"
    }
    assert {"empty.ndjson", "blank.ndjson", "empty.json", "empty.ndjson.gz"} <= empties
    assert any(
        f["code"] == "unreadable-input" and f["location"]["file"].endswith("zero.ndjson.gz")
        for f in card["findings"]
    )


class _LosesTheFirstRecord(InputSummary):
    """A per-file summary that drops the count of the file's first record."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "records_read" and value == 1:
            value = 0  # a record counted in total but in no file
        super().__setattr__(name, value)


def test_a_broken_invariant_is_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "feed.ndjson"
    path.write_bytes(ndjson(patient(id="a"), patient(id="b")))
    # The miscount goes in through the per-file summary class, looked up by name on every
    # file: patching the accumulator's own methods would not reach the compiled build.
    monkeypatch.setattr(accumulate, "InputSummary", _LosesTheFirstRecord)
    with pytest.raises(AccountingError, match="do not add up"):
        conformance.validate([path], standard="mdss@1.0.0", jobs=1)


@pytest.mark.parametrize("jobs", [1, 2])
def test_interrupt_in_process_gives_a_consistent_partial_scorecard(
    tmp_path: Path, jobs: int
) -> None:
    for part in range(3):
        resources = iter_resources(patients=20, seed=part)
        (tmp_path / f"part{part}.ndjson").write_bytes(
            b"".join(orjson.dumps(r) + b"\n" for r in resources)
        )

    def interrupt(records: int, source: str) -> None:
        if records >= 300:
            raise KeyboardInterrupt

    from conformance.engine.run import Engine, RunSpec

    spec = RunSpec(standard="mdss@1.0.0", progress_every=100, jobs=jobs)
    card = Engine(spec, progress=interrupt).run([tmp_path])
    data = card.data
    assert data["complete"] is False and data["verdict"] == "Incomplete"
    assert_accounts(data)
    total = sum(1 for p in tmp_path.glob("*.ndjson") for _ in p.read_bytes().splitlines())
    assert 0 < data["counts"]["records_read"] < total


def _wait_until_reading(proc: subprocess.Popen[bytes], feed: Path, past: int) -> None:
    """Until ``proc`` has read past byte ``past`` of ``feed`` (so records are in flight)."""
    fd_dir = Path(f"/proc/{proc.pid}/fd")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before it could be interrupted"
        try:
            for fd in fd_dir.iterdir():
                if os.readlink(fd) == str(feed):
                    pos = int((fd_dir.parent / "fdinfo" / fd.name).read_text().split()[1])
                    if pos > past:
                        return
        except OSError:
            pass  # a descriptor closed while looking at it
        time.sleep(0.02)
    raise AssertionError("the run never started reading")


@pytest.mark.skipif(not Path("/proc/self/fdinfo").is_dir(), reason="needs Linux /proc")
def test_signals_write_an_incomplete_scorecard(tmp_path: Path) -> None:
    feed = tmp_path / "big.ndjson"
    with feed.open("wb") as out:
        for resource in iter_resources(patients=300, seed=9):
            out.write(orjson.dumps(resource) + b"\n")
    total = sum(1 for _ in feed.read_bytes().splitlines())
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    runs = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        out = tmp_path / f"card-{sig.name}.json"
        command = [
            sys.executable,
            "-m",
            "conformance",
            "validate",
            str(feed),
            "-f",
            "json",
            "-o",
            str(out),
            "--no-progress",
            "--jobs",
            "1",
        ]
        proc = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        runs[sig] = (proc, out)
    for sig, (proc, _) in runs.items():
        _wait_until_reading(proc, feed, past=256 * 1024)
        proc.send_signal(sig)
    for sig, (proc, out) in runs.items():
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, (sig.name, err.decode())
        assert b"Traceback" not in err
        card = orjson.loads(out.read_bytes())
        assert card["complete"] is False and card["verdict"] == "Incomplete", sig.name
        assert_accounts(card)
        assert 0 < card["counts"]["records_read"] < total, sig.name


def _record(args: list[str]) -> int:
    import io

    from conformance.cli.main import Io, run

    return run(args, Io(io.StringIO(), io.StringIO()))


def test_concurrent_record_runs_lose_nothing(cli: Cli, tmp_path: Path) -> None:
    pytest.importorskip("conformance.history", reason="the history module is not there yet")
    feeds = []
    for n in range(4):
        generated = generate_feed(tmp_path / f"feed{n}", patients=2, seed=100 + n)
        feeds.append(generated)
    db = tmp_path / "history.sqlite3"  # created by the racing runs themselves
    jobs = [
        [
            "validate",
            str(g.root),
            "--record",
            "--db",
            str(db),
            "--no-progress",
            "--jobs",
            "1",
            "-f",
            "json",
        ]
        for g in feeds
    ]
    context = multiprocessing.get_context("fork")
    with context.Pool(4) as pool:
        codes = pool.map(_record, jobs)
    assert all(code in (0, 1) for code in codes), codes
    listed = cli("history", "list", "--db", db, "-f", "json")
    assert listed.code == 0, listed.err
    entries = listed.json()
    assert sorted(e["feed"] for e in entries) == sorted(g.feed_id for g in feeds)
    assert len({e["id"] for e in entries}) == 4

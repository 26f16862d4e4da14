"""The scorecard history: SQLite store, migrations, concurrency, and the history CLI."""

from __future__ import annotations

import copy
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.history import (
    DB_ENV,
    MIGRATIONS,
    SCHEMA_VERSION,
    HistoryError,
    HistoryStore,
    Period,
    default_db_path,
    record_scorecard,
    submissions,
)

CARD = Path(__file__).parent.parent / "reporters" / "data" / "nonconformant.json"
REPO = Path(__file__).parent.parent.parent


def make_card(
    ics: str = "QWO",
    sender: str = "RXX",
    month: int = 11,
    score: float = 80.0,
    version: str = "1.0.0",
    feed: str | None = None,
) -> dict[str, Any]:
    card: dict[str, Any] = json.loads(CARD.read_text())
    card = copy.deepcopy(card)
    card["feed"] = {
        "id": feed or f"{ics.lower()}-{sender.lower()}-2026-{month:02d}",
        "ics": ics,
        "sender": sender,
        "period": {"start": f"2026-{month:02d}-01", "end": f"2026-{month:02d}-28"},
    }
    card["score"] = score
    card["standard"]["version"] = version
    return card


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite3"


def test_record_list_get_remove(db: Path) -> None:
    with HistoryStore(db) as store:
        a = store.record(make_card(month=10, score=70.0))
        b = store.record(make_card(month=11, score=75.0))
        c = store.record(make_card(ics="QOP", sender="RZX", month=11, score=90.0))
        entries = store.entries()
        assert [e.id for e in entries] == [a, c, b]  # by period, then ICS
        assert entries[0].period == Period("2026-10-01", "2026-10-28")
        assert entries[0].must_not_met == make_card()["summary"]["must"]["not_met"]
        assert store.get(b)["score"] == 75.0
        assert [e.id for e in store.entries(ics="QOP")] == [c]
        assert [e.id for e in store.entries(ics="QWO", sender="RXX", standard_id="mdss")] == [a, b]
        store.remove(a)
        assert [e.id for e in store.entries()] == [c, b]
        with pytest.raises(HistoryError, match="no scorecard with id"):
            store.remove(a)
        with pytest.raises(HistoryError, match="no scorecard with id"):
            store.get(a)


def test_the_same_submission_replaces_the_earlier_one(db: Path) -> None:
    with HistoryStore(db) as store:
        first = store.record(make_card(score=60.0))
        again = store.record(make_card(score=65.0))
        other_version = store.record(make_card(score=66.0, version="1.1.0"))
        assert first == again != other_version
        assert len(store.entries()) == 2
        assert store.get(first)["score"] == 65.0
        rows = store._conn.execute(
            "SELECT count(*) FROM requirement_results WHERE scorecard_id = ?", (first,)
        ).fetchone()
        assert rows[0] == len(make_card()["requirements"])


def test_incomplete_runs_are_not_recorded(db: Path) -> None:
    card = make_card()
    card["complete"] = False
    with HistoryStore(db) as store, pytest.raises(HistoryError, match="incomplete"):
        store.record(card)


def test_submissions_for_time_04(db: Path) -> None:
    with HistoryStore(db) as store:
        for month in (11, 9, 10):
            store.record(make_card(month=month))
        store.record(make_card(month=10, version="1.1.0"))  # same period, another version
        store.record(make_card(month=8, ics="QOP"))
        store.record(make_card(month=7, sender="R99"))
        assert store.submissions("QWO", "RXX", "mdss") == [
            Period("2026-09-01", "2026-09-28"),
            Period("2026-10-01", "2026-10-28"),
            Period("2026-11-01", "2026-11-28"),
        ]
        assert store.submissions("QWO", "RXX", "other") == []
    assert submissions("QOP", "RXX", "mdss", db=db) == [("2026-08-01", "2026-08-28")]


def test_migrations_are_ordered_and_upgrade_an_old_database(db: Path) -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    # A database made by the first version: migration 1 only, with one scorecard in it.
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    MIGRATIONS[0].apply(conn)
    conn.execute("INSERT INTO schema_version VALUES (1)")
    card = make_card()
    conn.execute(
        "INSERT INTO scorecards (ics, sender, feed, period_start, period_end, standard_id, "
        "standard_version, verdict, score, must_not_met, started, scorecard) "
        "VALUES ('QWO', 'RXX', 'f', '2026-11-01', '2026-11-28', 'mdss', '1.0.0', ?, 1, 0, '', ?)",
        (card["verdict"], json.dumps(card).encode()),
    )
    conn.commit()
    conn.close()
    with HistoryStore(db) as store:
        assert store.schema_version == SCHEMA_VERSION
        backfilled = store._conn.execute("SELECT count(*) FROM requirement_results").fetchone()
        assert backfilled[0] == len(card["requirements"])
        assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_newer_schema_is_refused(db: Path) -> None:
    HistoryStore(db).close()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(HistoryError, match="newer than this version"):
        HistoryStore(db)


def test_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite3"
    bad.write_text("this is not SQLite " * 100)
    with pytest.raises(HistoryError, match="not a usable history database"):
        HistoryStore(bad)


def test_default_db_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(DB_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "xdg" / "conformance" / "history.sqlite3"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_db_path() == tmp_path / "home/.local/share/conformance/history.sqlite3"
    monkeypatch.setenv(DB_ENV, str(tmp_path / "env.sqlite3"))
    assert default_db_path() == tmp_path / "env.sqlite3"


def _locked_error(tmp_path: Path) -> sqlite3.OperationalError:
    """SQLite's own "database is locked", from a second connection that will not wait."""
    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError) as caught:
            other.execute("SELECT * FROM t")
    finally:
        other.close()
        holder.execute("ROLLBACK")
        holder.close()
    return caught.value


def test_opening_retries_while_sqlite_refuses_to_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite reports a possible deadlock as "database is locked" at once, without the busy
    timeout; opening tries again (a real error is not retried)."""
    from conformance.history import store as store_module

    busy = _locked_error(tmp_path)
    assert store_module._is_busy(busy)
    calls = []
    migrate = store_module.HistoryStore._migrate

    def flaky(self: Any) -> None:
        calls.append(1)
        if len(calls) < 3:
            raise busy
        migrate(self)

    monkeypatch.setattr(store_module.HistoryStore, "_migrate", flaky)
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        assert store.schema_version > 0
    assert len(calls) == 3

    def broken(self: Any) -> None:
        raise sqlite3.OperationalError("no such table: nothing")

    monkeypatch.setattr(store_module.HistoryStore, "_migrate", broken)
    with pytest.raises(HistoryError, match="no such table"):
        HistoryStore(tmp_path / "other.sqlite3")


WRITER = """
import json, sys
sys.path.insert(0, {repo!r})
from conformance.history import HistoryStore
card = json.loads(open({card!r}).read())
worker = int(sys.argv[1])
for n in range({count}):
    card["feed"] = {{"id": f"feed-{{worker}}-{{n}}", "ics": f"Q{{worker}}", "sender": "RXX",
                    "period": {{"start": "2026-11-01", "end": "2026-11-30"}}}}
    with HistoryStore({db!r}) as store:
        store.record(card)
"""


def test_concurrent_writers_lose_nothing(db: Path, tmp_path: Path) -> None:
    workers, count = 4, 15
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(repo=str(REPO), card=str(CARD), count=count, db=str(db)))
    procs = [
        subprocess.Popen([sys.executable, str(script), str(w)], stderr=subprocess.PIPE)
        for w in range(workers)
    ]
    errors = []
    try:
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            if proc.returncode != 0:
                errors.append(err.decode())
    finally:  # never leave a writer running into the next test
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert not errors, errors[0]
    with HistoryStore(db) as store:
        entries = store.entries()
        assert len(entries) == workers * count
        assert {e.feed for e in entries} == {
            f"feed-{w}-{n}" for w in range(workers) for n in range(count)
        }
        results = store._conn.execute("SELECT count(*) FROM requirement_results").fetchone()
        assert results[0] == workers * count * len(make_card()["requirements"])


# ------------------------------------------------------------------ command line


def test_history_cli(cli: Any, db: Path, tmp_path: Path) -> None:
    paths = []
    for month in (9, 10):
        path = tmp_path / f"card-{month}.json"
        path.write_text(json.dumps(make_card(month=month)))
        paths.append(path)
    added = cli("history", "add", *paths, "--db", db)
    assert added.code == 0, added.err
    ids = [int(line.split("\t")[0]) for line in added.out.splitlines()]
    listed = cli("history", "list", "--db", db)
    assert listed.code == 0
    assert "2026-09-01 to 2026-09-28" in listed.out and "QWO" in listed.out
    as_json = cli("history", "list", "--db", db, "--format", "json").json()
    assert [e["id"] for e in as_json] == ids
    shown = cli("history", "show", str(ids[0]), "--db", db, "--format", "json")
    assert shown.json()["feed"]["period"]["start"] == "2026-09-01"
    subs = cli("history", "submissions", "QWO", "RXX", "mdss", "--db", db)
    assert subs.out.splitlines() == ["2026-09-01\t2026-09-28", "2026-10-01\t2026-10-28"]
    removed = cli("history", "remove", str(ids[0]), "--db", db)
    assert removed.code == 0
    assert len(cli("history", "list", "--db", db, "-f", "json").json()) == 1
    missing = cli("history", "show", "999", "--db", db)
    assert missing.code == 2 and "no scorecard with id 999" in missing.err
    assert cli("history").code == 2  # no subcommand: usage error


def test_history_uses_the_environment_variable(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_db = tmp_path / "env.sqlite3"
    monkeypatch.setenv(DB_ENV, str(env_db))
    record_scorecard(make_card())
    assert env_db.exists()
    assert len(cli("history", "list", "-f", "json").json()) == 1


def test_validate_record(cli: Any, db: Path) -> None:
    feed = REPO / "tests" / "fixtures" / "feeds" / "conformant"
    result = cli("validate", feed, "--format", "json", "--record", "--db", db)
    assert "recorded in the history as" in result.err
    card = result.json()
    with HistoryStore(db) as store:
        (entry,) = store.entries()
        assert entry.ics == card["feed"]["ics"] and entry.sender == card["feed"]["sender"]
        assert store.get(entry.id) == card

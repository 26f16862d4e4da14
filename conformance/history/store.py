"""Scorecard history in SQLite: one row per submission, with versioned schema migrations.

A *submission* is keyed by ICS, sender, feed id, reporting period and standard (id and
version); recording the same key again replaces the earlier scorecard (a re-run or a
corrected resubmission supersedes it). Missing manifest values are stored as ``''``.

Concurrency: the database runs in WAL mode with a busy timeout, and every write is one
``BEGIN IMMEDIATE`` transaction, so several processes can record at once without losing
a row. WAL needs a local filesystem (not NFS/SMB).

Migrations are an ordered list (:data:`MIGRATIONS`); ``schema_version`` holds the number
of the last one applied. Opening a database applies the missing ones in one transaction.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, NamedTuple

import orjson

from conformance.errors import UsageError

DB_ENV: Final = "CONFORMANCE_HISTORY_DB"
DB_FILE: Final = "history.sqlite3"
BUSY_TIMEOUT_MS: Final = 30_000


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    """Is this SQLite's "database is locked" (busy), which waiting can cure?"""
    code = getattr(exc, "sqlite_errorcode", None)  # absent on errors not raised by SQLite
    return code is not None and (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class HistoryError(UsageError):
    """The history database cannot be opened or does not hold what was asked for."""


_COLUMNS: Final = {
    "schema_version": {"version"},
    "scorecards": {
        "id", "ics", "sender", "feed", "period_start", "period_end", "standard_id",
        "standard_version", "verdict", "score", "must_not_met", "started", "scorecard",
    },
    "requirement_results": {"scorecard_id", "requirement", "level", "status", "rate", "threshold"},
}  # fmt: skip
"""The tables and columns the current schema has: anything less is a damaged database."""


def default_db_path() -> Path:
    """``$CONFORMANCE_HISTORY_DB``, else ``$XDG_DATA_HOME/conformance/history.sqlite3``,
    else ``~/.local/share/conformance/history.sqlite3``."""
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "conformance" / DB_FILE


# ------------------------------------------------------------------------------ migrations


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    apply: Callable[[sqlite3.Connection], None]


def _m1_scorecards(conn: sqlite3.Connection) -> None:
    conn.execute(
        """CREATE TABLE scorecards (
            id INTEGER PRIMARY KEY,
            ics TEXT NOT NULL,
            sender TEXT NOT NULL,
            feed TEXT NOT NULL,
            period_start TEXT NOT NULL,
            period_end TEXT NOT NULL,
            standard_id TEXT NOT NULL,
            standard_version TEXT NOT NULL,
            verdict TEXT NOT NULL,
            score REAL NOT NULL,
            must_not_met INTEGER NOT NULL,
            started TEXT NOT NULL,
            scorecard BLOB NOT NULL,
            UNIQUE (ics, sender, feed, period_start, period_end, standard_id, standard_version)
        )"""
    )


def _m2_requirement_results(conn: sqlite3.Connection) -> None:
    """Per-requirement results, for trend queries without parsing every scorecard."""
    conn.execute(
        """CREATE TABLE requirement_results (
            scorecard_id INTEGER NOT NULL REFERENCES scorecards(id) ON DELETE CASCADE,
            requirement TEXT NOT NULL,
            level TEXT NOT NULL,
            status TEXT NOT NULL,
            rate REAL,
            threshold REAL NOT NULL,
            PRIMARY KEY (scorecard_id, requirement)
        )"""
    )
    conn.execute(
        "CREATE INDEX scorecards_submissions ON scorecards (ics, sender, standard_id, period_end)"
    )
    rows = conn.execute("SELECT id, scorecard FROM scorecards").fetchall()
    for row_id, blob in rows:
        _insert_results(conn, int(row_id), orjson.loads(blob))


MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(1, "scorecards keyed by ICS, sender, feed, period and standard", _m1_scorecards),
    Migration(2, "per-requirement results and a submissions index", _m2_requirement_results),
)
SCHEMA_VERSION: Final = MIGRATIONS[-1].version


def _insert_results(conn: sqlite3.Connection, row_id: int, card: Mapping[str, Any]) -> None:
    conn.executemany(
        "INSERT INTO requirement_results (scorecard_id, requirement, level, status, rate, "
        "threshold) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (row_id, r["id"], r["level"], r["status"], r["rate"], r["threshold"])
            for r in card["requirements"]
        ],
    )


# ---------------------------------------------------------------------------------- store


class Period(NamedTuple):
    """A reporting period as recorded (ISO dates as in the manifest; ``''`` when absent)."""

    start: str
    end: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One recorded submission (without its scorecard, which :meth:`HistoryStore.get` reads)."""

    id: int
    ics: str
    sender: str
    feed: str
    period: Period
    standard_id: str
    standard_version: str
    verdict: str
    score: float
    must_not_met: int
    started: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ics": self.ics,
            "sender": self.sender,
            "feed": self.feed,
            "period": {"start": self.period.start, "end": self.period.end},
            "standard": f"{self.standard_id}@{self.standard_version}",
            "verdict": self.verdict,
            "score": self.score,
            "must_not_met": self.must_not_met,
            "started": self.started,
        }


_ENTRY_COLUMNS: Final = (
    "id, ics, sender, feed, period_start, period_end, standard_id, standard_version, "
    "verdict, score, must_not_met, started"
)


def _entry(row: Sequence[Any]) -> Entry:
    return Entry(
        id=int(row[0]),
        ics=row[1],
        sender=row[2],
        feed=row[3],
        period=Period(row[4], row[5]),
        standard_id=row[6],
        standard_version=row[7],
        verdict=row[8],
        score=float(row[9]),
        must_not_met=int(row[10]),
        started=row[11],
    )


def submission_key(card: Mapping[str, Any]) -> tuple[str, str, str, str, str, str, str]:
    feed = card.get("feed") or {}
    period = feed.get("period") or {}
    std = card["standard"]
    return (
        str(feed.get("ics") or ""),
        str(feed.get("sender") or ""),
        str(feed.get("id") or ""),
        str(period.get("start") or ""),
        str(period.get("end") or ""),
        str(std["id"]),
        str(std["version"]),
    )


class HistoryStore:
    """A history database. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"{self.path}: cannot open the history database: {exc}") from None
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._set_up()
        except (sqlite3.Error, HistoryError) as exc:
            self._conn.close()
            if isinstance(exc, HistoryError):
                raise
            raise HistoryError(f"{self.path}: not a usable history database: {exc}") from None

    def _set_up(self) -> None:
        """WAL mode, migrations, schema check; retried while another process holds a lock.

        SQLite gives up at once, without waiting for the busy timeout, when waiting could
        deadlock: two processes opening a new database both turn it to WAL (each holds a
        read lock and wants the exclusive one), and one of them is told "database is
        locked". The one told so retries until the other has finished.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        pause = 0.005
        while True:
            try:
                mode = self._conn.execute("PRAGMA journal_mode").fetchone()
                if not mode or str(mode[0]).lower() != "wal":
                    self._conn.execute("PRAGMA journal_mode = WAL")
                self._migrate()
                self._check_schema()
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() >= deadline:
                    raise  # (a failed migration has rolled back: see _write)
            time.sleep(pause)
            pause = min(pause * 2, 0.2)

    def _check_schema(self) -> None:
        """Refuse a database whose tables were damaged (dropped or altered by hand)."""
        for table, wanted in _COLUMNS.items():
            found = {row[1] for row in self._conn.execute(f"PRAGMA table_info({table})")}
            missing = sorted(wanted - found)
            if missing:
                raise HistoryError(
                    f"{self.path}: the history database is damaged: table {table} lacks "
                    f"{', '.join(missing)} (restore it from a backup, or start a new one)"
                )

    @contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        """A database error while reading is a damaged database (exit 2), never a crash."""
        try:
            yield
        except (sqlite3.Error, OverflowError, ValueError, TypeError, KeyError) as exc:
            raise HistoryError(
                f"{self.path}: the history database is damaged ({what}: {exc})"
            ) from None

    # -- plumbing

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking the write lock up front (no upgrade deadlock)."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _read_version(self) -> int:
        try:
            row = self._conn.execute("SELECT max(version) FROM schema_version").fetchone()
        except sqlite3.OperationalError:  # no such table: a new database
            return 0
        try:
            return int(row[0]) if row and row[0] is not None else 0
        except (TypeError, ValueError):
            raise HistoryError(
                f"{self.path}: the history database is damaged (schema_version {row[0]!r})"
            ) from None

    def _migrate(self) -> None:
        if self._read_version() == SCHEMA_VERSION:
            return  # the common case: no write lock needed
        with self._write() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
            current = int(row[0]) if row and row[0] is not None else 0
            if current > SCHEMA_VERSION:
                raise HistoryError(
                    f"{self.path}: history schema version {current} is newer than this "
                    f"version of conformance understands ({SCHEMA_VERSION}); upgrade it"
                )
            for migration in MIGRATIONS:
                if migration.version > current:
                    migration.apply(conn)
            if current < SCHEMA_VERSION:
                conn.execute("DELETE FROM schema_version")
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))

    @property
    def schema_version(self) -> int:
        return self._read_version()

    # -- the API

    def record(self, card: Mapping[str, Any]) -> int:
        """Add a scorecard (replacing one with the same submission key); return its id."""
        if not card.get("complete", False):
            raise HistoryError("an incomplete (interrupted) run is not recorded in the history")
        key = submission_key(card)
        must_not_met = int((card.get("summary") or {}).get("must", {}).get("not_met", 0))
        started = str((card.get("run") or {}).get("started", ""))
        blob = orjson.dumps(card)
        with self._reading("recording"), self._write() as conn:
            row = conn.execute(
                "INSERT INTO scorecards (ics, sender, feed, period_start, period_end, "
                "standard_id, standard_version, verdict, score, must_not_met, started, "
                "scorecard) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (ics, sender, feed, period_start, period_end, standard_id, "
                "standard_version) DO UPDATE SET verdict = excluded.verdict, "
                "score = excluded.score, must_not_met = excluded.must_not_met, "
                "started = excluded.started, scorecard = excluded.scorecard RETURNING id",
                (*key, card["verdict"], float(card["score"]), must_not_met, started, blob),
            ).fetchone()
            row_id = int(row[0])
            conn.execute("DELETE FROM requirement_results WHERE scorecard_id = ?", (row_id,))
            _insert_results(conn, row_id, card)
        return row_id

    def entries(
        self,
        *,
        ics: str | None = None,
        sender: str | None = None,
        standard_id: str | None = None,
    ) -> list[Entry]:
        """Recorded submissions, oldest period first (then ICS, sender, feed, standard)."""
        where, params = self._filters(ics, sender, standard_id)
        with self._reading("listing"):
            rows = self._conn.execute(
                f"SELECT {_ENTRY_COLUMNS} FROM scorecards{where} ORDER BY period_end, "
                "period_start, ics, sender, feed, standard_id, standard_version, id",
                params,
            ).fetchall()
            return [_entry(r) for r in rows]

    def get(self, entry_id: int) -> dict[str, Any]:
        """A recorded scorecard, read back through the privacy gate like any input."""
        from conformance.privacy import scrub_tree

        if not 0 <= entry_id < 2**63:
            raise HistoryError(f"no scorecard with id {entry_id} in {self.path}")
        with self._reading(f"scorecard {entry_id}"):
            row = self._conn.execute(
                "SELECT scorecard FROM scorecards WHERE id = ?", (entry_id,)
            ).fetchone()
            if row is None:
                raise HistoryError(f"no scorecard with id {entry_id} in {self.path}")
            card = orjson.loads(row[0])
        if not isinstance(card, dict) or not isinstance(card.get("requirements"), list):
            raise HistoryError(
                f"{self.path}: the history database is damaged (scorecard {entry_id})"
            )
        cleaned: dict[str, Any] = scrub_tree(card)
        return cleaned

    def scorecards(self, **filters: str | None) -> list[dict[str, Any]]:
        """The recorded scorecards themselves, in :meth:`entries` order."""
        return [self.get(e.id) for e in self.entries(**filters)]

    def remove(self, entry_id: int) -> None:
        if not 0 <= entry_id < 2**63:
            raise HistoryError(f"no scorecard with id {entry_id} in {self.path}")
        with self._reading("removing"), self._write() as conn:
            cur = conn.execute("DELETE FROM scorecards WHERE id = ?", (entry_id,))
            if cur.rowcount == 0:
                raise HistoryError(f"no scorecard with id {entry_id} in {self.path}")

    def submissions(self, ics: str, sender: str, standard_id: str) -> list[Period]:
        """The distinct reporting periods received from ``sender`` in ``ics`` under any
        version of standard ``standard_id``, oldest first (by end, then start).

        For MDSS-TIME-04 (every expected submission of the last periods was received):
        compare this list with the periods expected. It holds what has been *recorded* so
        far; the run being validated is added only after it finishes (``--record``).
        """
        with self._reading("submissions"):
            rows = self._conn.execute(
                "SELECT DISTINCT period_start, period_end FROM scorecards WHERE ics = ? AND "
                "sender = ? AND standard_id = ? ORDER BY period_end, period_start",
                (ics, sender, standard_id),
            ).fetchall()
            return [Period(str(r[0]), str(r[1])) for r in rows]

    @staticmethod
    def _filters(
        ics: str | None, sender: str | None, standard_id: str | None
    ) -> tuple[str, tuple[str, ...]]:
        clauses: list[str] = []
        params: list[str] = []
        for column, value in (("ics", ics), ("sender", sender), ("standard_id", standard_id)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)


def record_scorecard(card: Mapping[str, Any], db: Path | str | None = None) -> int:
    """Record one scorecard in the history at ``db`` (default: :func:`default_db_path`)."""
    with HistoryStore(db) as store:
        return store.record(card)


def submissions(
    ics: str, sender: str, standard_id: str, *, db: Path | str | None = None
) -> list[Period]:
    """:meth:`HistoryStore.submissions` on the database at ``db`` (or the default one)."""
    with HistoryStore(db) as store:
        return store.submissions(ics, sender, standard_id)

"""Scorecard history: every recorded submission, in SQLite (see :mod:`.store`).

For checks that need past submissions (MDSS-TIME-04), the run context's ``history`` is a
:class:`HistoryStore`; call ``history.submissions(ics, sender, standard_id)`` for the list
of :class:`Period` (start, end) received, oldest first.
"""

from conformance.history.store import (
    DB_ENV,
    MIGRATIONS,
    SCHEMA_VERSION,
    Entry,
    HistoryError,
    HistoryStore,
    Migration,
    Period,
    default_db_path,
    record_scorecard,
    submission_key,
    submissions,
)

__all__ = [
    "DB_ENV",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Entry",
    "HistoryError",
    "HistoryStore",
    "Migration",
    "Period",
    "default_db_path",
    "record_scorecard",
    "submission_key",
    "submissions",
]

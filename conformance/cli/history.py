"""``conformance history list|show|add|remove|submissions``: the scorecard history."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from conformance.cli.common import Io
from conformance.errors import ExitCode, UsageError

DB_HELP = (
    "history database (default: $CONFORMANCE_HISTORY_DB, else "
    "$XDG_DATA_HOME/conformance/history.sqlite3 or ~/.local/share/conformance/...)"
)


def register(sub: Any) -> None:
    hist = sub.add_parser("history", help="the scorecard history (SQLite)")
    hist_sub = hist.add_subparsers(dest="history_command", metavar="SUBCOMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = hist_sub.add_parser(name, help=help_text)
        parser.add_argument("--db", type=Path, metavar="PATH", help=DB_HELP)
        return parser

    lst = command("list", "list the recorded scorecards")
    lst.add_argument("--ics", metavar="ODS")
    lst.add_argument("--sender", metavar="ODS")
    lst.add_argument("--standard", metavar="ID", help="standard id, e.g. mdss")
    lst.add_argument("--format", "-f", choices=("table", "json"), default="table", type=str.lower)
    show = command("show", "render one recorded scorecard")
    show.add_argument("id", type=int, metavar="ID")
    show.add_argument("--format", "-f", default="terminal", metavar="FORMAT")
    show.add_argument("--output", "-o", type=Path, metavar="FILE")
    add = command("add", "record saved JSON scorecards")
    add.add_argument("scorecards", nargs="+", metavar="SCORECARD")
    remove = command("remove", "remove recorded scorecards")
    remove.add_argument("ids", nargs="+", type=int, metavar="ID")
    subs = command("submissions", "periods received from a sender (as MDSS-TIME-04 sees them)")
    subs.add_argument("ics", metavar="ICS")
    subs.add_argument("sender", metavar="SENDER")
    subs.add_argument("standard", metavar="STANDARD_ID")
    hist.set_defaults(handler=run)


def _table(entries: list[Any]) -> str:
    from conformance.reporters.common import period_label

    header = ("ID", "ICS", "SENDER", "PERIOD", "STANDARD", "SCORE", "VERDICT", "FEED")
    rows = [
        (
            str(e.id),
            e.ics or "-",
            e.sender or "-",
            period_label(e.period.start or None, e.period.end or None),
            f"{e.standard_id}@{e.standard_version}",
            f"{e.score:.1f}",
            e.verdict,
            e.feed or "-",
        )
        for e in entries
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in [header, *rows]
    ]
    return "\n".join(lines) + "\n"


def existing_db(db: Path | None) -> Path:
    """The history database to read: it must exist (reading never creates one)."""
    from conformance.history import default_db_path

    path = db if db is not None else default_db_path()
    if not path.is_file():
        raise UsageError(
            f"{path}: no history database there (record scorecards with "
            "'conformance validate --record' or 'conformance history add')"
        )
    return path


def run(args: argparse.Namespace, io: Io) -> int:
    import orjson

    from conformance.history import HistoryStore

    command = args.history_command
    if command is None:
        raise UsageError("history needs a subcommand: list, show, add, remove or submissions")
    db = args.db if command == "add" else existing_db(args.db)  # only 'add' creates one
    if command == "add":  # read every scorecard before the database is created or changed
        from conformance.cli.scorecard import load_scorecard

        cards = [load_scorecard(path) for path in args.scorecards]
    with HistoryStore(db) as store:
        if command == "list":
            entries = store.entries(ics=args.ics, sender=args.sender, standard_id=args.standard)
            if args.format == "json":
                io.stdout.write(
                    orjson.dumps(
                        [e.to_dict() for e in entries], option=orjson.OPT_INDENT_2
                    ).decode()
                    + "\n"
                )
            elif entries:
                io.stdout.write(_table(entries))
            else:
                io.stderr.write(f"no scorecards recorded in {store.path}\n")
        elif command == "show":
            from conformance.cli.scorecard import write_output
            from conformance.plugin.manager import build_plugins
            from conformance.reporters.base import RenderOptions
            from conformance.reporters.registry import reporter_for
            from conformance.scorecard.model import scorecard_data

            reporter = reporter_for(build_plugins(), args.format.lower())
            shown = scorecard_data(store.get(args.id))
            write_output(reporter.render(shown, RenderOptions()), args.output, io)
        elif command == "add":
            for path, card in zip(args.scorecards, cards, strict=True):
                io.stdout.write(f"{store.record(card)}\t{path}\n")
        elif command == "remove":
            for entry_id in args.ids:
                store.remove(entry_id)
                io.stderr.write(f"removed {entry_id}\n")
        elif command == "submissions":
            for period in store.submissions(args.ics, args.sender, args.standard):
                io.stdout.write(f"{period.start}\t{period.end}\n")
    return ExitCode.OK

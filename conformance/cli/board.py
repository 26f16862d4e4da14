"""``conformance board``: the national board pack from saved scorecards or the history."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from conformance.cli.common import Io
from conformance.errors import ExitCode, UsageError


def register(sub: Any) -> None:
    board = sub.add_parser(
        "board", help="aggregate scorecards of many ICSs and periods into a board pack"
    )
    board.add_argument("scorecards", nargs="*", metavar="SCORECARD", help="saved JSON scorecards")
    board.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        help="also take every scorecard in this history database",
    )
    board.add_argument(
        "--history",
        action="store_true",
        help="take the scorecards from the default history database",
    )
    board.add_argument(
        "--format", "-f", choices=("html", "csv", "json"), default="html", type=str.lower
    )
    board.add_argument("--output", "-o", type=Path, metavar="FILE", help="write it here")
    board.set_defaults(handler=run)


def run(args: argparse.Namespace, io: Io) -> int:
    from conformance.board import build_board, render
    from conformance.cli.scorecard import load_scorecard, write_output

    cards = [load_scorecard(path) for path in args.scorecards]
    if args.db is not None or args.history:
        from conformance.cli.history import existing_db
        from conformance.history import HistoryStore

        db = existing_db(args.db)
        with HistoryStore(db) as store:
            recorded = store.scorecards()
        if not recorded and not cards:
            raise UsageError(
                f"{db}: the history database holds no scorecards yet (record some with "
                "'conformance validate --record')"
            )
        cards.extend(recorded)
    if not cards:
        raise UsageError("board needs scorecards: give SCORECARD files, --db PATH or --history")
    if args.format == "html" and args.output is not None:
        # The HTML pack links each ICS to its scorecard, written in a folder beside it.
        from conformance.board import scorecards_folder, write_html_pack

        try:
            write_html_pack(cards, args.output)
        except OSError as exc:
            raise UsageError(f"{args.output}: cannot write: {exc.strerror or exc}") from None
        io.stderr.write(
            f"board pack (html) written to {args.output}, "
            f"its scorecards to {scorecards_folder(args.output)}\n"
        )
        return ExitCode.OK
    text = render(build_board(cards), args.format)
    write_output(text, args.output, io)
    if args.output is not None:
        io.stderr.write(f"board pack ({args.format}) written to {args.output}\n")
    return ExitCode.OK

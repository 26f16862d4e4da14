"""``conformance codes list|docs``: the finding codes a run can emit, with their meaning."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from conformance.cli.common import Io
from conformance.errors import ExitCode, UsageError


def register(sub: Any) -> None:
    codes = sub.add_parser("codes", help="the finding codes, with what each means")
    codes_sub = codes.add_subparsers(dest="codes_command", metavar="SUBCOMMAND")
    codes_sub.add_parser("list", help="list every finding code of the installed plugins")
    docs = codes_sub.add_parser("docs", help="write the finding-code catalogue (Markdown)")
    docs.add_argument("--output", "-o", type=Path, metavar="FILE", help="write it here")
    codes.set_defaults(handler=run)


def run(args: argparse.Namespace, io: Io) -> int:
    from conformance.cli.scorecard import write_output
    from conformance.codes.docs import render_markdown, render_table
    from conformance.plugin.manager import build_plugins

    catalogue = build_plugins().registry.finding_codes
    if args.codes_command == "list":
        owners = {code: catalogue.owner(code) for code in catalogue}
        io.stdout.write(render_table(catalogue, owners))
    elif args.codes_command == "docs":
        write_output(render_markdown(catalogue), args.output, io)
    else:
        raise UsageError("codes needs a subcommand: list or docs")
    return ExitCode.OK

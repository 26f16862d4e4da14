"""``conformance standards list|show|lint``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from conformance.cli.common import Io
from conformance.errors import ExitCode, UsageError


def register(sub: Any) -> None:
    std = sub.add_parser("standards", help="list, show and lint standards")
    std_sub = std.add_subparsers(dest="standards_command", metavar="SUBCOMMAND")
    std_sub.add_parser("list", help="list the standards available")
    show = std_sub.add_parser("show", help="show a standard's requirements")
    show.add_argument("ref", metavar="REF")
    lint = std_sub.add_parser("lint", help="check a standard folder (exit 1 on problems)")
    lint.add_argument("path", metavar="PATH")
    docs = std_sub.add_parser("docs", help="write the publishable catalogue (Markdown)")
    docs.add_argument("ref", metavar="REF")
    docs.add_argument("--output", "-o", type=Path, metavar="FILE", help="write it here")
    std.set_defaults(handler=run)


def run(args: argparse.Namespace, io: Io) -> int:
    from conformance.standards import commands

    sub = args.standards_command
    if sub == "list":
        io.stdout.write(commands.list_standards())
    elif sub == "show":
        io.stdout.write(commands.show_standard(args.ref))
    elif sub == "lint":
        text, ok = commands.lint_standard(args.path)
        io.stdout.write(text)
        return ExitCode.OK if ok else ExitCode.NOT_CONFORMANT
    elif sub == "docs":
        text = commands.catalogue_markdown(args.ref)
        if args.output is None:
            io.stdout.write(text)
        else:
            try:
                args.output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"{args.output}: cannot write: {exc.strerror or exc}") from None
    else:
        raise UsageError("standards needs a subcommand: list, show REF, lint PATH or docs REF")
    return ExitCode.OK

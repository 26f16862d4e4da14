"""The ``conformance`` command: parse into options, build, run, return an exit code.

Each subcommand lives in its own module (see :mod:`conformance.cli.common`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from collections.abc import Sequence

from conformance.__about__ import __version__
from conformance.cli.common import EXIT_CODES_HELP, Io
from conformance.engine.accumulate import AccountingError
from conformance.errors import ConformanceError, ExitCode

PROG = "conformance"

COMMAND_MODULES = (
    "conformance.cli.validate",
    "conformance.cli.standards",
    "conformance.cli.info",
    "conformance.cli.scorecard",
    "conformance.cli.history",
    "conformance.cli.board",
    "conformance.cli.codes",
    "conformance.cli.samples",
)

__all__ = ["Io", "build_parser", "main", "run"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Validate ICS data feeds against a minimum data-sharing standard "
        "and emit interoperability scorecards.",
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def run(argv: Sequence[str] | None = None, io: Io | None = None) -> int:
    io = io or Io()
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(io.stderr)
        return ExitCode.USAGE
    try:
        return int(handler(args, io))
    except ConformanceError as exc:
        io.stderr.write(f"{PROG}: error: {exc}\n")
        return exc.exit_code
    except AccountingError as exc:
        io.stderr.write(f"{PROG}: internal error (please report it): {exc}\n")
        return ExitCode.INTERNAL
    except KeyboardInterrupt:
        io.stderr.write(f"{PROG}: interrupted\n")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.OK


def main() -> None:
    code = run()
    with contextlib.suppress(BrokenPipeError):
        sys.stdout.flush()
    sys.exit(int(code))

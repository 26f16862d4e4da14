"""The ``conformance`` command: parse into options, build, run, return an exit code.

Each subcommand lives in its own module (see :mod:`conformance.cli.common`). This module
owns what is true of every command:

- **exit codes** (:class:`conformance.errors.ExitCode`): a handled error is one line on
  stderr and exit 2 (argument errors included); an unexpected exception is one line and
  exit 3 (``CONFORMANCE_DEBUG=1`` adds the traceback);
- **signals**: SIGINT and SIGTERM are turned into :class:`Interrupted` from the first
  line of :func:`main`, whatever the command is doing (reading, recording, rendering,
  writing); the run exits 130;
- **a scorecard where one was asked for**: when ``validate -o FILE`` is interrupted or
  fails unexpectedly, FILE still receives a scorecard marked ``Incomplete`` (the run's
  own, if it got that far), written atomically, so a pipeline never reads a half-written
  or stale report as a result.

Nothing here is in the engine: the library raises, the command line decides.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import Any, NoReturn

from conformance.__about__ import __version__
from conformance.cli.common import EXIT_CODES_HELP, Io
from conformance.errors import ConformanceError, ExitCode, UsageError

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

__all__ = ["Interrupted", "Io", "build_parser", "main", "run"]


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived. A KeyboardInterrupt, so the engine stops reading and
    marks its scorecard incomplete just as it does for Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _on_signal(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def install_signal_handlers() -> bool:
    """SIGINT and SIGTERM raise :class:`Interrupted`; False off the main thread."""
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _on_signal)
    except ValueError:  # not the main thread (an embedding application): leave them
        return False
    return True


def _parser_class() -> Any:
    """``argparse`` parsers whose errors are one line and exit 2 (a UsageError)."""
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            raise UsageError(f"{self.prog}: {message} (see --help)")

    return Parser


def build_parser() -> Any:
    import importlib

    parser = _parser_class()(
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


def _one_line(text: object) -> str:
    from conformance.privacy import scrub

    return scrub(str(text), limit=1000)


def run(argv: Sequence[str] | None = None, io: Io | None = None) -> int:
    io = io or Io()
    args: Any = None
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        handler = getattr(args, "handler", None)
        if handler is None:
            parser.print_help(io.stderr)
            return ExitCode.USAGE
        return int(handler(args, io))
    except ConformanceError as exc:
        io.stderr.write(f"{PROG}: error: {_one_line(exc)}\n")
        return exc.exit_code
    except KeyboardInterrupt as exc:
        if args is None:  # interrupted before the arguments were read: read them now
            args = _parse_quietly(argv)
        _write_incomplete(args, io, "interrupted")
        signame = exc.args[0] if isinstance(exc, Interrupted) else "SIGINT"
        io.stderr.write(f"{PROG}: interrupted ({signame})\n")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:  # a bug: one line, exit 3, and still a scorecard if asked
        from conformance.engine.accumulate import AccountingError

        _write_incomplete(args, io, "failed")
        if not isinstance(exc, AccountingError):
            _debug_traceback(io)
        io.stderr.write(
            f"{PROG}: internal error (please report it): {type(exc).__name__}: {_one_line(exc)}\n"
        )
        return ExitCode.INTERNAL


def _debug_traceback(io: Io) -> None:
    import os
    import traceback

    if os.environ.get("CONFORMANCE_DEBUG"):
        io.stderr.write(traceback.format_exc())


def _write_incomplete(args: Any, io: Io, what: str) -> None:
    """Give ``validate -o FILE`` a scorecard marked Incomplete; never raises."""
    output = getattr(args, "output", None)
    if args is None or getattr(args, "command", None) != "validate" or output is None:
        return
    blocked = _block_signals()
    try:
        from conformance.cli.interrupted import incomplete_scorecard, render_incomplete
        from conformance.files import write_atomic

        card = incomplete_scorecard(io.scorecard, what)
        write_atomic(output, render_incomplete(card, getattr(args, "format", "json")))
        io.stderr.write(f"an incomplete scorecard was written to {output}\n")
    except BaseException as exc:
        io.stderr.write(f"{PROG}: no scorecard written to {output} ({type(exc).__name__})\n")
    finally:
        _unblock_signals(blocked)


def _block_signals() -> bool:
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    except (AttributeError, ValueError, OSError):
        return False
    return True


def _unblock_signals(blocked: bool) -> None:
    if blocked:
        # A signal that arrived while the scorecard was written is dropped, not raised.
        pending = signal.sigpending() & {signal.SIGINT, signal.SIGTERM}
        previous = {s: signal.signal(s, signal.SIG_IGN) for s in pending}
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _parse_quietly(argv: Sequence[str] | None) -> Any:
    """The parsed arguments, or None; with SIGINT and SIGTERM held off meanwhile."""
    blocked = _block_signals()
    try:
        return build_parser().parse_args(argv)
    except (ConformanceError, SystemExit, KeyboardInterrupt):
        return None
    finally:
        _unblock_signals(blocked)


def run_interrupted(argv: Sequence[str] | None = None, io: Io | None = None) -> int:
    """A signal came before the command could start: write what ``-o`` asked for."""
    io = io or Io()
    _write_incomplete(_parse_quietly(argv), io, "interrupted")
    io.stderr.write(f"{PROG}: interrupted\n")
    return ExitCode.INTERRUPTED


def main(early_signals: Sequence[int] = ()) -> None:
    """The console entry point. ``early_signals``: signals that arrived before it ran
    (``python -m conformance`` records them while importing)."""
    install_signal_handlers()  # first: a signal from here on gives a clean exit
    import contextlib

    try:
        if early_signals:
            raise Interrupted(early_signals[0])
        code = run()
        with contextlib.suppress(BrokenPipeError):
            sys.stdout.flush()
    except KeyboardInterrupt:  # before the command started, or while it was being handled
        code = run_interrupted()
    sys.exit(int(code))

"""The ``conformance`` command: parse into a plain options object, build, run, exit code."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from conformance.__about__ import __version__
from conformance.errors import ConformanceError, ExitCode, UsageError

PROG = "conformance"


@dataclass(slots=True)
class ValidateOptions:
    inputs: list[str]
    standard: str | None = None
    format: str = "terminal"
    output: Path | None = None
    fail_on: str = "must"
    show_values: bool = False
    progress: bool = True
    max_findings: int | None = None
    environment: str | None = None


@dataclass(slots=True)
class Io:
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Validate ICS data feeds against a minimum data-sharing standard "
        "and emit interoperability scorecards.",
        epilog="Exit codes: 0 conformant under --fail-on, 1 not conformant, 2 usage or input "
        "error, 130 interrupted.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    val = sub.add_parser("validate", help="validate a feed and print its scorecard")
    val.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="files, folders (searched recursively) or - for standard input",
    )
    val.add_argument(
        "--standard",
        "-s",
        metavar="REF",
        help="standard: mdss, mdss@1, mdss@1.0.0 or a folder (default: the feed "
        "manifest's conformsTo, else the latest active mdss)",
    )
    val.add_argument(
        "--format",
        "-f",
        default="terminal",
        metavar="FORMAT",
        help="output format (see 'conformance formats'; default terminal)",
    )
    val.add_argument("--output", "-o", type=Path, metavar="FILE", help="write the report here")
    val.add_argument(
        "--fail-on",
        choices=("must", "should", "never"),
        default="must",
        help="exit 1 when MUSTs (default), MUSTs or SHOULDs, or never fail",
    )
    val.add_argument(
        "--show-values",
        action="store_true",
        help="show offending values unmasked (terminal output to a screen only)",
    )
    val.add_argument(
        "--environment",
        choices=("test", "production"),
        help="the feed's environment when it has no manifest (or to override it)",
    )
    val.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    val.add_argument(
        "--max-findings",
        type=int,
        metavar="N",
        help="example findings kept per requirement (counts stay exact; default 100)",
    )

    std = sub.add_parser("standards", help="list, show and lint standards")
    std_sub = std.add_subparsers(dest="standards_command", metavar="SUBCOMMAND")
    std_sub.add_parser("list", help="list the standards available")
    show = std_sub.add_parser("show", help="show a standard's requirements")
    show.add_argument("ref", metavar="REF")
    lint = std_sub.add_parser("lint", help="check a standard folder")
    lint.add_argument("path", metavar="PATH")

    sub.add_parser("formats", help="list the output formats")
    plugins = sub.add_parser("plugins", help="plugins and what they register")
    plugins_sub = plugins.add_subparsers(dest="plugins_command", metavar="SUBCOMMAND")
    plugins_sub.add_parser("list", help="list loaded plugins")
    sub.add_parser("version", help="print the version")
    return parser


class _Progress:
    """A one-line progress indicator on stderr (only when stderr is a terminal)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.perf_counter()
        self.shown = False

    def __call__(self, records: int, source: str) -> None:
        elapsed = max(1e-6, time.perf_counter() - self.started)
        name = source if len(source) <= 40 else "…" + source[-39:]
        self.stream.write(f"\r{records:>12,} records  {records / elapsed:>10,.0f}/s  {name:<40}")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 80 + "\r")
            self.stream.flush()


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_validate(opts: ValidateOptions, io: Io) -> int:
    from conformance.engine.run import Engine, RunOptions
    from conformance.limits import Limits
    from conformance.reporters.base import RenderOptions
    from conformance.reporters.registry import reporter_for
    from conformance.scorecard.model import FailOn

    if opts.show_values and (opts.format != "terminal" or opts.output is not None):
        raise UsageError("--show-values works only with --format terminal written to the screen")
    limits = Limits()
    if opts.max_findings is not None:
        if opts.max_findings < 0:
            raise UsageError("--max-findings must be 0 or more")
        limits = Limits(findings_per_requirement=opts.max_findings)
    progress = _Progress(io.stderr) if opts.progress and io.stderr.isatty() else None
    engine = Engine(
        RunOptions(
            standard=opts.standard, limits=limits, progress=progress, environment=opts.environment
        )
    )
    reporter = reporter_for(engine.plugins, opts.format)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        card = engine.run(opts.inputs)
    finally:
        signal.signal(signal.SIGTERM, previous)
        if progress is not None:
            progress.close()
    data: dict[str, Any] = card.data
    if opts.show_values:
        data = dict(data)
        data["findings"] = [
            {**shown, "message_unmasked": f.render_message(show_values=True)}
            for shown, f in zip(data["findings"], card.findings, strict=True)
        ]
    color = opts.output is None and io.stdout.isatty() and "NO_COLOR" not in os.environ
    text = reporter.render(data, RenderOptions(show_values=opts.show_values, color=color))
    if opts.output is not None:
        try:
            opts.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{opts.output}: cannot write: {exc.strerror or exc}") from None
        io.stderr.write(
            f"{card.data['verdict']} (score {card.score:.1f}); report written to {opts.output}\n"
        )
    else:
        io.stdout.write(text)
    if not card.data["complete"]:
        return ExitCode.INTERRUPTED
    return ExitCode.NOT_CONFORMANT if card.fails(FailOn(opts.fail_on)) else ExitCode.OK


def run_standards(args: argparse.Namespace, io: Io) -> int:
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
    else:
        raise UsageError("standards needs a subcommand: list, show REF or lint PATH")
    return ExitCode.OK


def run_plugins(io: Io) -> int:
    from conformance.plugin.manager import build_plugins

    plugins = build_plugins()
    for name, plugin in sorted(
        (plugins.manager.get_name(p) or "?", p) for p in plugins.manager.get_plugins()
    ):
        hooks = sorted(h.name for h in plugins.manager.get_hookcallers(plugin) or [])
        io.stdout.write(f"{name}: {', '.join(hooks)}\n")
    return ExitCode.OK


def run_formats(io: Io) -> int:
    from conformance.plugin.manager import build_plugins
    from conformance.reporters.registry import reporters

    for name, cls in sorted(reporters(build_plugins()).items()):
        io.stdout.write(f"{name:<18} {cls.description}\n")
    return ExitCode.OK


def run(argv: Sequence[str] | None = None, io: Io | None = None) -> int:
    io = io or Io()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "validate":
            return run_validate(
                ValidateOptions(
                    inputs=args.inputs,
                    standard=args.standard,
                    format=args.format,
                    output=args.output,
                    fail_on=args.fail_on,
                    show_values=args.show_values,
                    progress=not args.no_progress,
                    max_findings=args.max_findings,
                    environment=args.environment,
                ),
                io,
            )
        if args.command == "standards":
            return run_standards(args, io)
        if args.command == "plugins":
            return run_plugins(io)
        if args.command == "formats":
            return run_formats(io)
        if args.command == "version":
            io.stdout.write(f"{PROG} {__version__}\n")
            return ExitCode.OK
        parser.print_help(io.stderr)
        return ExitCode.USAGE
    except ConformanceError as exc:
        io.stderr.write(f"{PROG}: error: {exc}\n")
        return exc.exit_code
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

"""``conformance validate``: validate a feed and print or write its scorecard."""

from __future__ import annotations

import argparse
import os
import signal
import time
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from conformance.cli.common import Io
from conformance.errors import ExitCode, UsageError


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
    jobs: int | None = None
    baseline: Path | None = None
    record: bool = False
    db: Path | None = None
    limits: list[str] | None = None
    """``NAME=VALUE`` settings for :func:`conformance.limits.parse_limits`."""


def register(sub: Any) -> None:
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
    val.add_argument(
        "--jobs",
        "-j",
        type=int,
        metavar="N",
        help="worker processes (default: all cores for inputs of 32 MiB or more)",
    )
    val.add_argument(
        "--baseline",
        type=Path,
        metavar="SCORECARD",
        help="a saved JSON scorecard: exit 1 only on regressions against it "
        "(instead of the --fail-on policy)",
    )
    val.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    val.add_argument(
        "--max-findings",
        type=int,
        metavar="N",
        help="example findings kept per requirement (counts stay exact; default 100)",
    )
    val.add_argument(
        "--record", action="store_true", help="record the scorecard in the history database"
    )
    val.add_argument("--db", type=Path, metavar="PATH", help="history database for --record")
    val.add_argument(
        "--limit",
        action="append",
        metavar="NAME=VALUE",
        help="change a safety limit for this run (repeatable; sizes take K, M or G): "
        "max-line-bytes, max-file-bytes, max-depth, max-decompressed-bytes, max-ratio, "
        "max-files, findings-per-requirement",
    )
    val.set_defaults(handler=run)


def options_from(args: argparse.Namespace) -> ValidateOptions:
    return ValidateOptions(
        inputs=args.inputs,
        standard=args.standard,
        format=args.format,
        output=args.output,
        fail_on=args.fail_on,
        show_values=args.show_values,
        progress=not args.no_progress,
        max_findings=args.max_findings,
        environment=args.environment,
        jobs=args.jobs,
        baseline=getattr(args, "baseline", None),
        record=args.record,
        db=args.db,
        limits=args.limit,
    )


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


def run(args: argparse.Namespace, io: Io) -> int:
    return run_validate(options_from(args), io)


def run_validate(opts: ValidateOptions, io: Io) -> int:
    from conformance.engine.run import Engine, RunSpec
    from conformance.limits import parse_limits
    from conformance.reporters.base import RenderOptions
    from conformance.reporters.registry import reporter_for
    from conformance.scorecard.model import FailOn

    if opts.show_values and (opts.format != "terminal" or opts.output is not None):
        raise UsageError("--show-values works only with --format terminal written to the screen")
    baseline = None
    if opts.baseline is not None:
        from conformance.baseline import load_baseline

        baseline = load_baseline(opts.baseline)
    limits = parse_limits(opts.limits or ())
    if opts.max_findings is not None:
        if opts.max_findings < 0:
            raise UsageError("--max-findings must be 0 or more")
        limits = replace(limits, findings_per_requirement=opts.max_findings)
    progress = _Progress(io.stderr) if opts.progress and io.stderr.isatty() else None
    if opts.jobs is not None and opts.jobs < 0:
        raise UsageError("--jobs must be 0 (all cores) or more")
    history = None
    if opts.record or opts.db is not None:
        from conformance.history import HistoryStore

        history = HistoryStore(opts.db)  # for MDSS-TIME-04 (submission continuity)
    engine = Engine(
        RunSpec(
            standard=opts.standard,
            limits=limits,
            environment=opts.environment,
            jobs=opts.jobs,
        ),
        progress=progress,
        history=history,
    )
    reporter = reporter_for(engine.plugins, opts.format)
    in_main_thread = True
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (e.g. called from a worker): no handler
        in_main_thread = False
    try:
        card = engine.run(opts.inputs)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
        if progress is not None:
            progress.close()
    if opts.record and card.data["complete"]:
        from conformance.history import record_scorecard

        assert history is not None
        history.close()
        entry_id = record_scorecard(card.data, opts.db)
        io.stderr.write(f"recorded in the history as {entry_id}\n")
    elif history is not None:
        history.close()
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
    if baseline is not None:
        from conformance.baseline import compare

        comparison = compare(baseline, card.data)
        io.stderr.write(comparison.render())
        return ExitCode.OK if comparison.ok else ExitCode.NOT_CONFORMANT
    return ExitCode.NOT_CONFORMANT if card.fails(FailOn(opts.fail_on)) else ExitCode.OK

"""``conformance validate``: validate feeds and print or write one scorecard per feed.

Several feeds on one command line are validated one by one (see
:mod:`conformance.cli.feeds`); the exit code is the worst of theirs.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from conformance.cli.common import EXIT_CODES_HELP, MAX_JOBS, Io, bounded_int
from conformance.cli.feeds import LOOSE_LABEL as LOOSE
from conformance.errors import ExitCode, UsageError
from conformance.scorecard.model import Scorecard


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
    output_dir: Path | None = None
    quiet: bool = False
    packages: list[str] | None = None
    """FHIR packages (folders, ``.tgz``) whose definitions the run knows."""
    profiles: list[str] | None = None
    """Profiles applied to every resource of their type."""
    loose_records: bool = False
    """Judge loose files record by record (feed-level requirements not applicable)."""
    extension_domains: tuple[str, ...] = ()
    example_extensions: bool = False


def register(sub: Any) -> None:
    val = sub.add_parser(
        "validate",
        help="validate feeds and print a scorecard per feed",
        description="Validate feeds against a standard: one scorecard per feed (a folder with "
        "a manifest.json, or an archive of one), one for the loose files.",
        epilog=EXIT_CODES_HELP,
    )
    val.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="feed folders (with a manifest.json) or archives of them, each validated on "
        "its own; folders holding feeds; loose files (validated together); - for "
        "standard input",
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
    val.add_argument(
        "--output",
        "-o",
        type=Path,
        metavar="FILE",
        help="write the report here (several feeds: --format json writes a list of "
        "scorecards; terminal, markdown and github write one report after another)",
    )
    val.add_argument(
        "--output-dir",
        type=Path,
        metavar="DIR",
        help="write one report per feed here, plus summary.json (any format)",
    )
    val.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="print nothing but errors (reports still go to --output or --output-dir); "
        "the exit code tells the verdict",
    )
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
        type=bounded_int(0, MAX_JOBS),
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
        type=bounded_int(0, 1_000_000),
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
        "max-line-bytes, max-file-bytes, max-depth, max-elements, max-decompressed-bytes, "
        "max-ratio, "
        "max-files, findings-per-requirement",
    )
    val.add_argument(
        "--package",
        action="append",
        metavar="PATH",
        help="FHIR definitions to load (repeatable): a folder (searched recursively, JSON "
        "and XML) or a FHIR .tgz package, with the dependencies found beside it",
    )
    val.add_argument(
        "--profile",
        action="append",
        metavar="URL",
        help="validate every resource of the profile's type against it (repeatable)",
    )
    val.add_argument(
        "--loose-records",
        action="store_true",
        help="judge loose files (outside any feed folder) record by record: feed-level "
        "requirements (manifest, completeness, timeliness...) are not applicable to them",
    )
    val.add_argument(
        "--allow-extension-domain",
        action="append",
        default=[],
        metavar="DOMAIN",
        help="FHIR extensions with no definition whose URL starts with DOMAIN are reported "
        "for information, not as errors (repeatable); unknown modifier extensions stay errors",
    )
    val.add_argument(
        "--allow-example-extensions",
        action="store_true",
        help="FHIR extensions with no definition on example domains (example.org...) are "
        "reported for information, not as errors",
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
        output_dir=args.output_dir,
        quiet=args.quiet,
        packages=getattr(args, "package", None),
        profiles=getattr(args, "profile", None),
        loose_records=getattr(args, "loose_records", False),
        extension_domains=tuple(getattr(args, "allow_extension_domain", None) or ()),
        example_extensions=getattr(args, "allow_example_extensions", False),
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


def run(args: argparse.Namespace, io: Io) -> int:
    return run_validate(options_from(args), io)


TEXT_FORMATS = frozenset({"terminal", "markdown", "github"})
"""Formats whose renderings of several feeds can follow one another in one stream."""


@dataclass(slots=True)
class FeedRun:
    """One run of the engine (one feed, or the loose files) and what it decided."""

    label: str
    card: Scorecard
    exit_code: int
    notes: str = ""
    """The baseline comparison (for stderr)."""


def run_validate(opts: ValidateOptions, io: Io) -> int:
    from conformance.cli.feeds import group_inputs
    from conformance.limits import parse_limits
    from conformance.plugin.manager import build_plugins
    from conformance.reporters.registry import reporter_for

    opts.format = opts.format.lower()
    to_file = opts.output is not None or opts.output_dir is not None
    if opts.show_values and (opts.format != "terminal" or to_file):
        raise UsageError("--show-values works only with --format terminal written to the screen")
    if opts.output is not None and opts.output_dir is not None:
        raise UsageError("give --output FILE or --output-dir DIR, not both")
    baselines = None
    if opts.baseline is not None:
        from conformance.baseline import load_baseline

        baselines = load_baseline(opts.baseline)
    limits = parse_limits(opts.limits or ())
    if opts.max_findings is not None:
        if opts.max_findings < 0:
            raise UsageError("--max-findings must be 0 or more")
        limits = replace(limits, findings_per_requirement=opts.max_findings)
    if opts.jobs is not None and opts.jobs < 0:
        raise UsageError("--jobs must be 0 (all cores) or more")
    reporter = reporter_for(build_plugins(), opts.format)
    _check_packages(opts, io)
    groups, skipped = group_inputs(opts.inputs)
    several = len(groups) > 1
    if several and opts.output_dir is None and opts.format not in TEXT_FORMATS | {"json"}:
        raise UsageError(
            f"{len(groups)} feeds give {len(groups)} {opts.format} reports: "
            "use --output-dir DIR (one file per feed, plus summary.json)"
        )
    for path in skipped:
        io.stderr.write(f"{path}: a link out of the folder given: not followed\n")
    runs: list[FeedRun] = []
    for group in groups:
        card = _run_engine(group.inputs, opts, limits, io, group.is_feed)
        code, notes = _decide(card, opts, baselines, len(groups))
        runs.append(FeedRun(group.label, card, code, notes))
        if not card.data["complete"]:
            break  # interrupted: the feeds not yet read are not reported
    _write_reports(runs, reporter, opts, io, several)
    if not opts.quiet:
        for item in runs:
            if item.notes:
                prefix = f"{item.label}: " if several else ""
                io.stderr.write("".join(f"{prefix}{line}\n" for line in item.notes.splitlines()))
    return worst_exit_code(r.exit_code for r in runs)


def worst_exit_code(codes: Any) -> int:
    """The exit code of several runs: interrupted beats everything, then the highest."""
    codes = list(codes)
    if ExitCode.INTERRUPTED in codes:
        return ExitCode.INTERRUPTED
    return max(codes, default=ExitCode.OK)


def _run_engine(
    inputs: list[str], opts: ValidateOptions, limits: Any, io: Io, is_feed: bool = True
) -> Scorecard:
    from conformance.engine.run import Engine, RunSpec

    progress = _Progress(io.stderr) if opts.progress and io.stderr.isatty() else None
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
            packages=tuple(opts.packages or ()),
            profiles=tuple(opts.profiles or ()),
            records_only=opts.loose_records and not is_feed,
            extension_domains=opts.extension_domains,
            example_extensions=opts.example_extensions,
        ),
        progress=progress,
        history=history,
    )
    try:  # SIGINT and SIGTERM are handled for every command in conformance.cli.main
        card = engine.run(inputs)
    finally:
        if progress is not None:
            progress.close()
        if history is not None:
            history.close()
    io.scorecard = card.data  # what -o receives (marked Incomplete) if interrupted from here
    if opts.record and card.data["complete"]:
        from conformance.history import record_scorecard

        entry_id = record_scorecard(card.data, opts.db)
        if not opts.quiet:
            io.stderr.write(f"recorded in the history as {entry_id}\n")
    return card


def _check_packages(opts: ValidateOptions, io: Io) -> None:
    """``--package`` paths exist; a dependency not found beside its package is a warning."""
    from conformance.fhir.errors import DefinitionError
    from conformance.fhir.packages import with_dependencies

    for path in opts.packages or ():
        if not os.path.exists(path):
            raise UsageError(f"--package {path}: no such file or folder")
    try:
        warnings = with_dependencies([Path(p) for p in opts.packages or ()])[1]
    except DefinitionError as exc:
        raise UsageError(f"--package: {exc}") from None
    if not opts.quiet:
        io.stderr.write("".join(f"warning: {w}\n" for w in warnings))


def _decide(
    card: Scorecard, opts: ValidateOptions, baselines: list[dict[str, Any]] | None, runs: int
) -> tuple[int, str]:
    """The run's exit code, and the baseline comparison to show."""
    from conformance.scorecard.model import FailOn

    if not card.data["complete"]:
        return ExitCode.INTERRUPTED, ""
    if baselines is not None:
        from conformance.baseline import baseline_for, compare

        baseline = baseline_for(baselines, card.data, runs)
        if baseline is not None:
            comparison = compare(baseline, card.data)
            code = ExitCode.OK if comparison.ok else ExitCode.NOT_CONFORMANT
            return code, comparison.render()
        note = "no baseline for this feed: judged by --fail-on\n"
        return (ExitCode.NOT_CONFORMANT if card.fails(FailOn(opts.fail_on)) else ExitCode.OK), note
    return (ExitCode.NOT_CONFORMANT if card.fails(FailOn(opts.fail_on)) else ExitCode.OK), ""


def _render(card: Scorecard, reporter: Any, opts: ValidateOptions, color: bool) -> str:
    from conformance.reporters.base import RenderOptions
    from conformance.scorecard.model import scorecard_data

    data = card.data
    if opts.show_values:
        unmasked = [
            {**shown, "message_unmasked": f.render_message(show_values=True)}
            for shown, f in zip(data["findings"], card.findings, strict=True)
        ]
        data = scorecard_data({**data, "findings": unmasked})
    text: str = reporter.render(data, RenderOptions(show_values=opts.show_values, color=color))
    return text


def _write_text(path: Path, text: str) -> None:
    from conformance.files import write_atomic

    write_atomic(path, text)  # an interrupted write never leaves half a file


def _write_reports(
    runs: list[FeedRun], reporter: Any, opts: ValidateOptions, io: Io, several: bool
) -> None:
    if opts.output_dir is not None:
        _write_directory(runs, reporter, opts, io)
        return
    if opts.quiet and opts.output is None:
        return
    color = opts.output is None and io.stdout.isatty() and "NO_COLOR" not in os.environ
    if not several:
        text = _render(runs[0].card, reporter, opts, color) if runs else ""
    elif opts.format == "json":
        import orjson

        cards = [r.card.data for r in runs]
        text = orjson.dumps(cards, option=orjson.OPT_INDENT_2).decode() + "\n"
    else:
        text = _several(runs, reporter, opts, color)
    if opts.output is None:
        io.stdout.write(text)
        return
    _write_text(opts.output, text)
    if not opts.quiet:
        for item in runs:
            where = f"{item.label}: " if several else ""
            io.stderr.write(f"{where}{item.card.data['verdict']} (score {item.card.score:.1f})\n")
        io.stderr.write(f"report written to {opts.output}\n")


def _several(runs: list[FeedRun], reporter: Any, opts: ValidateOptions, color: bool) -> str:
    """Several feeds in one text stream: each feed's report under its name, then a summary."""
    parts: list[str] = []
    total = len(runs)
    for index, item in enumerate(runs, 1):
        text = _render(item.card, reporter, opts, color)
        if opts.format == "github":
            parts.append(f"::group::{item.label}\n{text}::endgroup::\n")
        elif opts.format == "markdown":
            parts.append(f"# {item.label} ({index} of {total})\n\n{text}")
        else:
            parts.append(f"=== {item.label} ({index} of {total}) ===\n{text}")
    if opts.format == "terminal":
        parts.append(summary_text(runs))
    elif opts.format == "markdown":
        parts.append(summary_markdown(runs))
    return "\n".join(parts)


def _summary_rows(runs: list[FeedRun]) -> list[tuple[str, str, str, str]]:
    return [
        (r.card.data["verdict"], f"{r.card.score:.1f}", str(int(r.exit_code)), r.label)
        for r in runs
    ]


def summary_text(runs: list[FeedRun]) -> str:
    rows = _summary_rows(runs)
    width = max(len(v) for v, _, _, _ in [*rows, ("VERDICT", "", "", "")])
    lines = [f"Summary of {len(runs)} runs", f"  {'VERDICT':<{width}}  SCORE  EXIT  FEED"]
    lines += [f"  {v:<{width}}  {s:>5}  {e:>4}  {label}" for v, s, e, label in rows]
    code = worst_exit_code(r.exit_code for r in runs)
    lines.append(f"Exit code {code}: the worst of the runs")
    return "\n".join(lines) + "\n"


def summary_markdown(runs: list[FeedRun]) -> str:
    lines = ["## Summary", "", "| Verdict | Score | Exit | Feed |", "| --- | ---: | ---: | --- |"]
    lines += [f"| {v} | {s} | {e} | `{label}` |" for v, s, e, label in _summary_rows(runs)]
    return "\n".join(lines) + "\n"


def _file_stem(item: FeedRun, used: set[str]) -> str:
    feed = item.card.data.get("feed", {})
    base = str(feed.get("id") or os.path.basename(item.label.rstrip("/\\")) or "feed")
    if base.lower().endswith((".zip", ".tgz", ".tar")):
        base = base.rsplit(".", 1)[0]
    if base.lower().endswith(".tar.gz"):
        base = base[: -len(".tar.gz")]
    stem = "".join(c if c.isalnum() or c in "-_." else "-" for c in base).strip(".-") or "feed"
    if item.label == LOOSE:
        stem = "loose-files"
    candidate, n = stem, 2
    while candidate in used or candidate == "summary":
        candidate, n = f"{stem}-{n}", n + 1
    used.add(candidate)
    return candidate


def _write_directory(runs: list[FeedRun], reporter: Any, opts: ValidateOptions, io: Io) -> None:
    """One report per run in ``--output-dir``, plus ``summary.json``."""
    import orjson

    assert opts.output_dir is not None
    try:
        opts.output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{opts.output_dir}: cannot create: {exc.strerror or exc}") from None
    used: set[str] = set()
    entries = []
    for item in runs:
        name = _file_stem(item, used) + reporter.extension
        _write_text(opts.output_dir / name, _render(item.card, reporter, opts, False))
        data = item.card.data
        entries.append(
            {
                "label": item.label,
                "root": data["feed"].get("root"),
                "feed": {
                    k: data["feed"][k]
                    for k in ("id", "ics", "sender", "period")
                    if k in data["feed"]
                },
                "verdict": data["verdict"],
                "score": data["score"],
                "complete": data["complete"],
                "exit_code": int(item.exit_code),
                "report": name,
            }
        )
    summary = {
        "exit_code": int(worst_exit_code(r.exit_code for r in runs)),
        "format": opts.format,
        "runs": entries,
    }
    text = orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n"
    _write_text(opts.output_dir / "summary.json", text)
    if not opts.quiet:
        io.stderr.write(
            "".join(f"{e['label']}: {e['verdict']} (score {e['score']:.1f})\n" for e in entries)
            + f"{len(entries)} report(s) and summary.json written to {opts.output_dir}\n"
        )

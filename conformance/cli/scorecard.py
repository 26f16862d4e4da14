"""``conformance scorecard render``: re-render a saved JSON scorecard in any format."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from conformance.cli.common import Io
from conformance.errors import ExitCode, UsageError


def register(sub: Any) -> None:
    card = sub.add_parser("scorecard", help="work with saved JSON scorecards")
    card_sub = card.add_subparsers(dest="scorecard_command", metavar="SUBCOMMAND")
    render = card_sub.add_parser("render", help="render a saved scorecard in another format")
    render.add_argument("scorecard", metavar="SCORECARD", help="a JSON scorecard, or - for stdin")
    render.add_argument(
        "--format", "-f", default="terminal", metavar="FORMAT", help="output format"
    )
    render.add_argument("--output", "-o", type=Path, metavar="FILE", help="write it here")
    render.add_argument(
        "--top-findings",
        type=int,
        default=20,
        metavar="N",
        help="findings shown by the human-readable formats (default 20)",
    )
    card.set_defaults(handler=run)


def load_scorecard(source: str) -> dict[str, Any]:
    """Read and schema-check a JSON scorecard; problems are usage errors (exit 2)."""
    import jsonschema
    import orjson

    from conformance.files import read_regular
    from conformance.privacy import scrub_tree
    from conformance.scorecard.model import scorecard_schema

    if source == "-":
        raw = sys.stdin.buffer.read()
    else:
        raw = read_regular(source, what="scorecard")  # never blocks on a pipe or device
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"{source}: not JSON: {exc}") from None
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(scorecard_schema()).iter_errors(data)
    )
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise UsageError(f"{source}: not a scorecard: {where}: {error.message}")
    if not isinstance(data, dict):  # pragma: no cover - the schema requires an object
        raise UsageError(f"{source}: not a scorecard")
    # A saved scorecard may have been edited: it passes the privacy gate again.
    cleaned: dict[str, Any] = scrub_tree(data)
    return cleaned


def write_output(text: str, output: Path | None, io: Io) -> None:
    from conformance.files import write_atomic

    if output is None:
        io.stdout.write(text)
        return
    write_atomic(output, text)  # all or nothing: an interrupted write leaves no half file


def run(args: argparse.Namespace, io: Io) -> int:
    from conformance.plugin.manager import build_plugins
    from conformance.reporters.base import RenderOptions
    from conformance.reporters.registry import reporter_for
    from conformance.scorecard.model import scorecard_data

    if args.scorecard_command != "render":
        raise UsageError("scorecard needs a subcommand: render SCORECARD --format F")
    if args.top_findings < 0:
        raise UsageError("--top-findings must be 0 or more")
    reporter = reporter_for(build_plugins(), args.format.lower())
    data = load_scorecard(args.scorecard)
    text = reporter.render(scorecard_data(data), RenderOptions(top_findings=args.top_findings))
    write_output(text, args.output, io)
    if args.output is not None:
        io.stderr.write(f"{args.format} rendering written to {args.output}\n")
    return ExitCode.OK

"""``conformance standards list|show|lint|docs|diff|new``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from conformance.cli.common import Io
from conformance.errors import ExitCode, UsageError


def register(sub: Any) -> None:
    std = sub.add_parser("standards", help="list, show, lint, diff and scaffold standards")
    std_sub = std.add_subparsers(dest="standards_command", metavar="SUBCOMMAND")
    std_sub.add_parser("list", help="list the standards available")
    show = std_sub.add_parser("show", help="show a standard's requirements")
    show.add_argument("ref", metavar="REF")
    lint = std_sub.add_parser("lint", help="check standard folders (exit 1 on problems)")
    lint.add_argument(
        "path", metavar="PATH", nargs="+", help="a standard folder or its standard.yaml"
    )
    docs = std_sub.add_parser("docs", help="write the publishable catalogue (Markdown)")
    docs.add_argument("ref", metavar="REF")
    docs.add_argument("--output", "-o", type=Path, metavar="FILE", help="write it here")
    diff = std_sub.add_parser(
        "diff",
        help="what changed between two versions, and whether the version bump follows the "
        "rules (exit 1 when it does not)",
    )
    diff.add_argument("old", metavar="A", help="the earlier standard (REF or folder)")
    diff.add_argument("new", metavar="B", help="the later standard (REF or folder)")
    diff.add_argument("--format", "-f", choices=("text", "json"), default="text", type=str.lower)
    new = std_sub.add_parser("new", help="scaffold a local extension of a standard")
    new.add_argument("id", metavar="ID", help="the new standard's id, e.g. qwo-local")
    new.add_argument(
        "--extends", required=True, metavar="REF", help="the standard extended, e.g. mdss@1.0"
    )
    new.add_argument(
        "--output",
        "-o",
        type=Path,
        default=Path("standards"),
        metavar="DIR",
        help="folder of standards to create ID/0.1.0 in (default: ./standards)",
    )
    new.add_argument("--title", help="the new standard's title")
    std.set_defaults(handler=run)


def run(args: argparse.Namespace, io: Io) -> int:
    from conformance.standards import authoring, commands

    sub = args.standards_command
    if sub == "list":
        io.stdout.write(commands.list_standards())
    elif sub == "show":
        io.stdout.write(commands.show_standard(args.ref))
    elif sub == "lint":
        all_ok = True
        for path in dict.fromkeys(args.path):
            text, ok = authoring.lint_standard(path)
            io.stdout.write(text)
            all_ok = all_ok and ok
        return ExitCode.OK if all_ok else ExitCode.NOT_CONFORMANT
    elif sub == "docs":
        text = commands.catalogue_markdown(args.ref)
        if args.output is None:
            io.stdout.write(text)
        else:
            try:
                args.output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"{args.output}: cannot write: {exc.strerror or exc}") from None
    elif sub == "diff":
        return _diff(args, io)
    elif sub == "new":
        folder = authoring.scaffold_extension(args.extends, args.id, args.output, title=args.title)
        io.stdout.write(
            f"created {folder / 'standard.yaml'}\n"
            f"next: edit it, then run: conformance standards lint {folder}\n"
        )
    else:
        raise UsageError(
            "standards needs a subcommand: list, show REF, lint PATH, docs REF, diff A B "
            "or new --extends REF ID"
        )
    return ExitCode.OK


def _diff(args: argparse.Namespace, io: Io) -> int:
    import json

    from conformance.standards.authoring import diff_standards, render_diff
    from conformance.standards.registry import StandardRegistry

    registry = StandardRegistry.default()
    diff = diff_standards(registry.resolve(args.old), registry.resolve(args.new))
    if args.format == "json":
        io.stdout.write(json.dumps(diff.to_dict(), indent=2) + "\n")
    else:
        io.stdout.write(render_diff(diff))
    return ExitCode.OK if diff.ok else ExitCode.NOT_CONFORMANT

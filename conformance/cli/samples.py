"""``conformance samples generate|defects``: synthetic feeds to try the tool and a pipeline on.

Every NHS Number is from the 999 test range and every person is made up; the feed is
marked ``environment: test`` unless asked otherwise. Defects are injected at the rates
given, and ``--expected`` writes where each one is, so that what a pipeline reports can be
compared with what was put in.
"""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path
from typing import Any

from conformance.cli.common import Io
from conformance.errors import ExitCode, UsageError


def _defect(text: str) -> tuple[str, float]:
    req, sep, rate = text.partition("=")
    try:
        if not sep or not req:
            raise ValueError
        return req.strip(), float(rate)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected REQUIREMENT=RATE (e.g. MDSS-ID-02=0.05), not {text!r}"
        ) from None


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, not {text!r}") from None


def register(sub: Any) -> None:
    samples = sub.add_parser("samples", help="generate synthetic feeds (test data only)")
    samples_sub = samples.add_subparsers(dest="samples_command", metavar="SUBCOMMAND")
    gen = samples_sub.add_parser(
        "generate",
        help="write a synthetic feed folder (manifest, NDJSON, SITREP CSV), with defects",
    )
    gen.add_argument("output", type=Path, metavar="DIR", help="the feed folder (empty or new)")
    gen.add_argument("--patients", type=int, default=100, metavar="N", help="default 100")
    gen.add_argument("--seed", type=int, default=0, metavar="S", help="same seed, same bytes")
    gen.add_argument(
        "--defect",
        type=_defect,
        action="append",
        default=[],
        metavar="REQ=RATE",
        help="inject REQ's defect into this fraction of eligible records (repeatable; "
        "see `conformance samples defects`)",
    )
    gen.add_argument(
        "--all-defects",
        type=float,
        metavar="RATE",
        help="inject every injectable defect at RATE (--defect overrides one)",
    )
    gen.add_argument("--ics", default="QWO", metavar="ODS", help="the ICS code (default QWO)")
    gen.add_argument("--sender", default="RXX", metavar="ODS", help="the sender (default RXX)")
    gen.add_argument("--period-start", type=_date, metavar="DATE", help="default 2026-11-01")
    gen.add_argument("--period-end", type=_date, metavar="DATE", help="default 2026-11-30")
    gen.add_argument(
        "--environment", choices=("test", "production"), default="test", help="default test"
    )
    gen.add_argument("--gzip", action="store_true", help="write .ndjson.gz files")
    gen.add_argument("--no-sitrep", action="store_true", help="no SITREP CSV table")
    gen.add_argument("--no-manifest", action="store_true", help="no manifest.json")
    gen.add_argument("--overwrite", action="store_true", help="replace files in DIR")
    gen.add_argument(
        "--expected",
        type=Path,
        metavar="FILE",
        help="write the injected defects (requirement, file, line, resource) as JSON here "
        "(outside DIR, or it would be read as part of the feed)",
    )
    samples_sub.add_parser("defects", help="list the requirements a defect can be injected for")
    samples.set_defaults(handler=run)


def run(args: argparse.Namespace, io: Io) -> int:
    from conformance.samples import NOT_INJECTABLE, SUPPORTED_DEFECTS

    if args.samples_command == "defects":
        for req in sorted(SUPPORTED_DEFECTS | set(NOT_INJECTABLE)):
            why = NOT_INJECTABLE.get(req)
            io.stdout.write(f"{req}{f'  (not injectable: {why})' if why else ''}\n")
        return ExitCode.OK
    if args.samples_command != "generate":
        raise UsageError("samples needs a subcommand: generate DIR or defects")
    return _generate(args, io)


def _generate(args: argparse.Namespace, io: Io) -> int:
    import orjson

    from conformance.samples import (
        DEFAULT_PERIOD_END,
        DEFAULT_PERIOD_START,
        NOT_INJECTABLE,
        SUPPORTED_DEFECTS,
        generate_feed,
    )

    if args.patients < 0:
        raise UsageError("--patients must be 0 or more")
    defects: dict[str, float] = {}
    if args.all_defects is not None:
        defects = {d: args.all_defects for d in SUPPORTED_DEFECTS if d not in NOT_INJECTABLE}
    defects.update(args.defect)
    if args.expected is not None and args.expected.resolve().is_relative_to(args.output.resolve()):
        raise UsageError(f"--expected {args.expected}: must be outside the feed folder")
    try:
        feed = generate_feed(
            args.output,
            patients=args.patients,
            seed=args.seed,
            defects=defects,
            ics=args.ics,
            sender=args.sender,
            period_start=args.period_start or DEFAULT_PERIOD_START,
            period_end=args.period_end or DEFAULT_PERIOD_END,
            environment=args.environment,
            gzip=args.gzip,
            sitrep=not args.no_sitrep,
            manifest=not args.no_manifest,
            overwrite=args.overwrite,
        )
    except FileExistsError as exc:
        raise UsageError(f"{exc} (use --overwrite to replace its files)") from None
    except (ValueError, OSError) as exc:
        raise UsageError(str(exc)) from None
    if args.expected is not None:
        injected = [
            {
                "requirement": d.requirement_id,
                "file": d.file,
                "line": d.line,
                "resource_type": d.resource_type,
                "resource_id": d.resource_id,
                "description": d.description,
            }
            for d in feed.injected
        ]
        try:
            args.expected.write_bytes(orjson.dumps(injected, option=orjson.OPT_INDENT_2) + b"\n")
        except OSError as exc:
            raise UsageError(f"{args.expected}: cannot write: {exc.strerror or exc}") from None
    records = sum(feed.counts.values())
    io.stdout.write(
        f"wrote {feed.root}: {records} records in {len(feed.paths)} files, "
        f"{len(feed.injected)} defects injected (feed {feed.feed_id}, "
        f"environment {feed.environment})\n"
    )
    return ExitCode.OK

"""``python -m conformance.spark`` / ``spark-submit conformance/spark/submit.py``.

Validates files, folders or globs (any Hadoop URI) on the Spark cluster the session
connects to and writes the scorecard (JSON by default) on the driver. Exit codes are
the ``conformance validate`` ones: 0 conformant, 1 not conformant (``--fail-on``),
2 usage or input error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from conformance.errors import ConformanceError, ExitCode
from conformance.limits import Limits


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="python -m conformance.spark",
        description="Validate a feed on a Spark cluster and write its scorecard.",
    )
    cli.add_argument("inputs", nargs="+", metavar="INPUT", help="files, folders or globs")
    cli.add_argument("--standard", "-s", metavar="REF", help="standard reference or folder")
    cli.add_argument(
        "--output", "-o", default="-", metavar="FILE", help="driver-local file, or - (stdout)"
    )
    cli.add_argument("--format", "-f", default="json", help="report format (default json)")
    cli.add_argument("--environment", choices=("test", "production"))
    cli.add_argument("--max-findings", type=int, metavar="N")
    cli.add_argument("--partitions", type=int, metavar="N", help="Spark partitions to use")
    cli.add_argument("--fail-on", choices=("must", "should", "never"), default="must")
    cli.add_argument("--app-name", default="conformance")
    return cli


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from pyspark.sql import SparkSession

    from conformance.plugin.manager import build_plugins
    from conformance.reporters.base import RenderOptions
    from conformance.reporters.registry import reporter_for
    from conformance.scorecard.model import FailOn
    from conformance.spark.run import validate_files

    limits = Limits()
    if args.max_findings is not None:
        limits = Limits(findings_per_requirement=max(0, args.max_findings))
    owned = SparkSession.getActiveSession() is None  # never stop a notebook's session
    spark = SparkSession.builder.appName(args.app_name).getOrCreate()
    try:
        reporter = reporter_for(build_plugins(), args.format)
        card = validate_files(
            spark,
            args.inputs,
            args.standard,
            limits=limits,
            environment=args.environment,
            min_partitions=args.partitions,
        )
    except ConformanceError as exc:
        sys.stderr.write(f"conformance: error: {exc}\n")
        return int(ExitCode.USAGE)
    finally:
        if owned:
            spark.stop()
    text = reporter.render(card.data, RenderOptions())
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        verdict = card.data["verdict"]
        sys.stderr.write(f"{verdict} (score {card.score:.1f}); written to {args.output}\n")
    return int(ExitCode.NOT_CONFORMANT if card.fails(FailOn(args.fail_on)) else ExitCode.OK)


if __name__ == "__main__":
    sys.exit(main())

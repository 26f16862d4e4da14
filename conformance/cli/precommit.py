"""The pre-commit hook ``conformance-feeds``: validate every feed a staged file belongs to.

pre-commit runs ``python -m conformance.cli.precommit [ARGS...] FILE...``: the hook's
``args`` (options of ``conformance validate``), then the staged files. A file is traced up
to its feed (the nearest folder above it with a ``manifest.json``); an archive outside
any feed folder is a feed itself. Every feed touched is validated as a whole, once, with
one scorecard each; the exit code is the worst (0 when every feed conforms).

File names are taken as they are: spaces, any Unicode, a leading dash. An argument is a
file when it exists (pre-commit passes only existing files), otherwise an option; options
that take a value may be written ``--option=value`` or ``--option value``.

Files outside any feed folder are *loose files*. A loose FHIR resource file (JSON,
NDJSON, XML, gzipped or not) is validated record by record with the standard's
record-level requirements (``--loose-records``: its feed-level ones, such as the manifest,
completeness or timeliness, are not applicable to it), so the hook fails on a broken
resource; other loose files (a CSV extract needs its feed's manifest) are listed and
skipped. :func:`plan` is where they are sorted out.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from conformance.cli.common import Io
from conformance.cli.feeds import feed_root_of
from conformance.readers.archive import is_archive

PROG = "conformance-feeds"
RESOURCE_FILE = re.compile(r"(?i)\.(ndjson|json|xml)(\.gz)?$")
"""Loose files validated record by record: FHIR resources, one or many (NDJSON, Bundles)."""


@dataclass(slots=True)
class Plan:
    """What the hook does with the staged files."""

    feeds: list[str] = field(default_factory=list)
    """Feed folders (and archives) to validate, each once, in the order first touched."""
    records: list[str] = field(default_factory=list)
    """Staged FHIR resource files that belong to no feed: validated record by record."""
    loose: list[str] = field(default_factory=list)
    """Other staged files that belong to no feed: skipped."""


def _value_options() -> frozenset[str]:
    """The ``conformance validate`` options that take a value (``--standard REF``)."""
    from conformance.cli import validate

    sub = argparse.ArgumentParser().add_subparsers()
    validate.register(sub)
    return frozenset(
        option
        for action in sub.choices["validate"]._actions
        if action.option_strings and action.nargs != 0
        for option in action.option_strings
    )


def split_arguments(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """``(options, files)``: an existing path is a file, whatever its name."""
    takes_value = _value_options()
    options: list[str] = []
    files: list[str] = []
    pending_value = False
    for arg in argv:
        if pending_value:
            options.append(arg)
            pending_value = False
        elif os.path.lexists(arg):
            files.append(arg)
        elif arg.startswith("-"):
            options.append(arg)
            pending_value = "=" not in arg and arg in takes_value
        else:
            files.append(arg)  # missing: validate reports it as an input error
    return options, files


def plan(files: Sequence[str]) -> Plan:
    """Trace each staged file to its feed."""
    result = Plan()
    seen: set[str] = set()
    for name in files:
        path = Path(name)
        root = feed_root_of(path)
        if root is None and is_archive(path):
            root = path
        if root is None:
            (result.records if RESOURCE_FILE.search(name) else result.loose).append(name)
            continue
        key = os.path.normcase(os.path.abspath(root))
        if key not in seen:
            seen.add(key)
            result.feeds.append(str(root))
    return result


def run(argv: Sequence[str], io: Io | None = None) -> int:
    from conformance.cli.main import run as run_cli

    io = io or Io()
    options, files = split_arguments(argv)
    todo = plan(files)
    for name in todo.loose:
        io.stdout.write(
            f"conformance: {name} is not in a feed folder (no manifest.json above it): skipped\n"
        )
    if not todo.feeds and not todo.records:
        return 0
    # "--" ends the options: a feed folder named "-x" is still a feed.
    argv = ["validate", "--no-progress", "--loose-records", *options, "--"]
    return run_cli([*argv, *todo.feeds, *todo.records], io)


def main() -> None:
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()

"""What every command module shares: the output streams and the subcommand protocol.

A command module has ``register(subparsers)``, which adds its parser and sets
``handler=run`` on it, and ``run(args, io) -> int``. Adding a command is one module plus
one line in :data:`conformance.cli.main.COMMAND_MODULES`.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

EXIT_CODES_HELP = (
    "Exit codes: 0 conformant under --fail-on (default: every MUST met), 1 not conformant "
    "(with --baseline: a regression), 2 usage or input error, 3 internal error (a bug in "
    "conformance; please report it), 130 interrupted. With several feeds: the worst of "
    "their codes."
)
"""The exit codes, as ``--help`` prints them (the README's table says the same)."""


@dataclass(slots=True)
class Io:
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    scorecard: Mapping[str, Any] | None = None
    """The run's scorecard once the engine has built it: if the command is then
    interrupted (recording, rendering, writing), this is what ``-o FILE`` receives,
    marked Incomplete (see :mod:`conformance.cli.main`)."""


MAX_JOBS = 256
"""Most worker processes ``--jobs`` accepts."""


def bounded_int(low: int, high: int) -> Any:
    """An ``argparse`` type: a whole number from ``low`` to ``high``, else a usage error
    (a 5,000-digit number is refused before Python tries to convert it)."""
    import argparse

    def parse(text: str) -> int:
        digits = text.strip().lstrip("+-")
        if not digits.isdigit() or not digits.isascii() or len(digits) > 18:
            raise argparse.ArgumentTypeError(f"expected a whole number from {low} to {high}")
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}")
        return value

    return parse

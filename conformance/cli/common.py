"""What every command module shares: the output streams and the subcommand protocol.

A command module has ``register(subparsers)``, which adds its parser and sets
``handler=run`` on it, and ``run(args, io) -> int``. Adding a command is one module plus
one line in :data:`conformance.cli.main.COMMAND_MODULES`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

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

"""What every command module shares: the output streams and the subcommand protocol.

A command module has ``register(subparsers)``, which adds its parser and sets
``handler=run`` on it, and ``run(args, io) -> int``. Adding a command is one module plus
one line in :data:`conformance.cli.main.COMMAND_MODULES`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO


@dataclass(slots=True)
class Io:
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)

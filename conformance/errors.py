"""Exceptions raised when a run cannot go on, and the command line's exit codes.

Problems *in a feed* are never exceptions: they become findings. These exceptions are
for the cases where there is nothing sensible to validate (a missing input, a standard
that does not load, a bad option).
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Exit codes of the ``conformance`` command, documented in the README."""

    OK = 0
    """Conformant under the --fail-on policy (or a command that succeeded)."""
    NOT_CONFORMANT = 1
    """The feed does not meet the --fail-on policy."""
    USAGE = 2
    """Usage or input error: bad option, missing path, a standard that does not load."""
    INTERNAL = 3
    """An internal error (a bug in conformance, e.g. records lost from the counts)."""
    INTERRUPTED = 130
    """Interrupted (Ctrl-C or SIGTERM); a partial scorecard marked incomplete may be written."""


class ConformanceError(Exception):
    """Base class: a handled error, printed as one line without a traceback."""

    exit_code: ExitCode = ExitCode.USAGE


class UsageError(ConformanceError):
    """The command or API was called wrongly (bad option, unknown format, ...)."""


class InputError(ConformanceError):
    """An input cannot be opened at all (missing path, unreadable file)."""


class StandardError(ConformanceError):
    """A standard cannot be found, loaded or compiled.

    The message names the file, and where known the YAML line and key.
    """


class PluginError(ConformanceError):
    """A plugin is misconfigured in a way that stops the run (e.g. a misspelt hook)."""

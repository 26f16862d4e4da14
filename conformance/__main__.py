"""``python -m conformance``."""

import signal

# The earliest moment the command can: a signal that arrives while the rest of the
# command line is imported is remembered, and main() treats it as an interruption.
_early: list[int] = []
for _signum in (signal.SIGINT, signal.SIGTERM):
    signal.signal(_signum, lambda signum, frame: _early.append(signum))

from conformance.cli.main import main  # noqa: E402

main(_early)

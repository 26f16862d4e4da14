"""``python -m conformance.spark``: see :mod:`conformance.spark.submit`."""

import sys

from conformance.spark.submit import main

sys.exit(main())

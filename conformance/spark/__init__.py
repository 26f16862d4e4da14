"""PySpark integration (``pip install conformance[spark]``).

Nothing else in the package imports this module, and it imports PySpark lazily, so the
core validator never needs Spark or Java.
"""

from __future__ import annotations

from conformance.spark.run import validate_dataframe, validate_files

__all__ = ["validate_dataframe", "validate_files"]

"""Validate feeds with PySpark: files (local, HDFS, object storage) or tables of FHIR JSON.

Files are read whole with ``SparkContext.binaryFiles``: each file is one task, which
writes its bytes to the executor's temporary folder and validates it with the normal
readers (NDJSON, JSON/Bundle, CSV, gzip). Record locations (file name, line number) and
file digests are therefore exactly those of a local run. Limits: one file is held in
an executor's memory at once and must stay under Spark's 2 GiB record limit; a file is
not split, so parallelism is per file (Bulk Data exports are usually many files; split
bigger ones). Archives must be extracted first.

Workers open the run's session (the compiled standard) from the picklable
:class:`RunSpec` once per Python worker process (cheaper to ship than a compiled
standard), and the driver merges the shares in input order, so the scorecard is the one
a local run gives.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from conformance.engine.distributed import (
    RunSpec,
    Share,
    finish,
    make_spec,
    validate_file,
    validate_records,
)
from conformance.feed import FeedInfo
from conformance.limits import Limits
from conformance.scorecard.model import Scorecard
from conformance.spark.listing import ListedFile, list_inputs

__all__ = ["validate_dataframe", "validate_files"]

_GLOB_ESCAPES = str.maketrans({c: "\\" + c for c in "\\*?[]{}"})


def _hadoop_path_list(uris: Sequence[str]) -> str:
    """One comma-separated path list naming exactly these files.

    Hadoop splits the list on every comma outside ``{...}`` and then expands each path
    as a glob; so glob characters are escaped, and a comma in a name becomes the
    one-choice group ``{\\,}``. (Hadoop counts even escaped braces while splitting: a
    name with unbalanced ``{`` or ``}`` cannot be listed.)
    """
    return ",".join(uri.translate(_GLOB_ESCAPES).replace(",", "{\\,}") for uri in uris)


def _context(spark: Any) -> Any:
    """A SparkContext from a SparkSession (or the context itself)."""
    return getattr(spark, "sparkContext", spark)


def _files_partition(
    spec_b: Any, lookup_b: Any, rows: Iterable[tuple[str, bytes]]
) -> Iterator[tuple[int, Share]]:
    spec: RunSpec = spec_b.value
    lookup: dict[str, tuple[int, str, str | None]] = lookup_b.value
    for uri, data in rows:
        try:
            index, name, relative = lookup[uri]
        except KeyError:
            raise RuntimeError(f"Spark returned a file that was not listed: {uri}") from None
        handle, temp = tempfile.mkstemp(prefix="conformance-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            del data
            yield index, validate_file(spec, Path(temp), name, relative)
        finally:
            os.unlink(temp)


def validate_files(
    spark: Any,
    inputs: Sequence[str],
    standard: str | Path | None = None,
    *,
    limits: Limits | None = None,
    environment: str | None = None,
    min_partitions: int | None = None,
) -> Scorecard:
    """Validate files, folders or globs (any Hadoop URI: ``s3a://``, ``abfss://``,
    ``hdfs://``, local paths) on a Spark cluster; the scorecard equals a local run's.

    ``spark`` is a SparkSession or SparkContext. ``min_partitions`` defaults to the
    number of files (one task each) capped at 4 per core of the cluster.
    """
    started = time.perf_counter()
    started_at = datetime.now(UTC)
    limits = limits or Limits()
    sc = _context(spark)
    listing = list_inputs(sc, list(inputs), limits)
    try:
        spec = make_spec(listing.feed, standard, limits=limits, environment=environment)
        shares = _run_files(sc, spec, listing.files, min_partitions)
        return finish(
            spec,
            shares,
            source_issues=listing.issues,
            elapsed=time.perf_counter() - started,
            started_at=started_at,
        )
    finally:
        listing.cleanup()


def _run_files(
    sc: Any, spec: RunSpec, files: list[ListedFile], min_partitions: int | None
) -> list[Share]:
    if not files:
        return []
    lookup = {f.uri: (index, f.name, f.relative) for index, f in enumerate(files)}
    if len(lookup) != len(files):
        raise ValueError("an input file was given twice")
    partitions = min_partitions or max(1, min(len(files), 4 * sc.defaultParallelism))
    paths = _hadoop_path_list([f.uri for f in files])
    rdd = sc.binaryFiles(paths, minPartitions=partitions)
    if rdd.getNumPartitions() < partitions:
        # Spark packs small files into one split (spark.files.openCostInBytes); validation
        # costs far more than moving bytes, so spread the files over the cores.
        rdd = rdd.repartition(partitions)
    run = partial(_files_partition, sc.broadcast(spec), sc.broadcast(lookup))
    results: list[tuple[int, Share]] = rdd.mapPartitions(run).collect()
    results.sort(key=lambda pair: pair[0])
    seen = [index for index, _ in results]
    if seen != list(range(len(files))):
        missing = sorted(set(range(len(files))) - set(seen))
        names = ", ".join(files[i].name for i in missing[:5])
        raise RuntimeError(f"Spark did not read every input file (missing: {names})")
    return [share for _, share in results]


# --------------------------------------------------------------------------- tables


def _as_bytes(value: Any) -> bytes:
    if value is None:
        return b"null"  # reported as a record that is not a JSON object
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return bytes(value)


def _records_partition(
    spec_b: Any, name: str, index: int, rows: Iterable[tuple[Any, int]]
) -> Iterator[tuple[int, Share]]:
    lines = ((row + 1, _as_bytes(value)) for value, row in rows)
    yield index, validate_records(spec_b.value, name, lines)


def validate_dataframe(
    df: Any,
    column: str = "resource",
    *,
    name: str = "dataframe",
    standard: str | Path | None = None,
    limits: Limits | None = None,
    environment: str | None = None,
    feed: FeedInfo | None = None,
) -> Scorecard:
    """Validate a table whose ``column`` holds one FHIR resource as JSON per row.

    The column must be a string or binary column (use ``to_json`` on a parsed struct).
    Findings are located as ``name`` and the row's 1-based position in the DataFrame's
    order (its line number); give ``feed`` to supply manifest information, if any.
    """
    started = time.perf_counter()
    started_at = datetime.now(UTC)
    kind = df.schema[column].dataType.typeName()
    if kind not in ("string", "binary"):
        raise TypeError(
            f"column '{column}' is {kind}: it must hold JSON text (string or binary); "
            "convert parsed structs with pyspark.sql.functions.to_json"
        )
    sc = _context(df.sparkSession)
    spec = make_spec(feed, standard, limits=limits, environment=environment)
    rows = df.select(column).rdd.map(lambda row: row[0]).zipWithIndex()
    run = partial(_records_partition, sc.broadcast(spec), name)
    results: list[tuple[int, Share]] = rows.mapPartitionsWithIndex(run).collect()
    results.sort(key=lambda pair: pair[0])
    shares = [share for _, share in results]
    return finish(spec, shares, elapsed=time.perf_counter() - started, started_at=started_at)

"""PySpark (local mode) gives the scorecard of a local run.

Skipped, with the reason, where pyspark or a Java runtime is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.engine.distributed import finish, make_spec, validate_records
from conformance.engine.run import validate
from conformance.errors import InputError
from conformance.samples import generate_feed
from tests.conftest import REPO

pytestmark = pytest.mark.slow

DEFECTS = {"MDSS-ID-02": 0.05, "MDSS-ID-08": 0.05, "MDSS-STR-01": 0.02, "MDSS-ID-05": 0.05}


def _java_missing() -> str | None:
    java = shutil.which("java")
    if java is None:
        return "no Java runtime on PATH (PySpark needs Java 17 or later)"
    try:
        subprocess.run([java, "-version"], capture_output=True, check=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"java -version failed ({type(exc).__name__})"
    return None


def _without_run(card: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in card.items() if k != "run"}


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install .[spark])")
    reason = _java_missing()
    if reason is not None:
        pytest.skip(reason)
    from pyspark.sql import SparkSession

    # Workers must run this interpreter (and its packages), not the first python3 on PATH,
    # and import the conformance this process imports (the installed build), not the
    # sources in the working directory that ``python -m pyspark.daemon`` would put first.
    saved = {k: os.environ.get(k) for k in ("PYSPARK_PYTHON", "PYTHONSAFEPATH")}
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYTHONSAFEPATH"] = "1"
    session = (
        SparkSession.builder.master("local[2]")
        .appName("conformance-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "512m")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def defect_feed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("spark") / "feed"
    generate_feed(root, patients=40, seed=5, defects=DEFECTS)
    return root


def test_files_equal_the_local_scorecard_on_the_failing_sample(spark: Any) -> None:
    from conformance.spark import validate_files

    feed = str(REPO / "sample_feeds" / "qop-failing")
    card = validate_files(spark, [feed]).data
    local = validate([feed], jobs=1).data
    assert _without_run(card) == _without_run(local)
    assert card["verdict"] == "Not conformant"


def test_files_equal_the_local_scorecard_on_a_generated_feed(spark: Any, defect_feed: Path) -> None:
    from conformance.spark import validate_files

    card = validate_files(spark, [str(defect_feed)], min_partitions=3).data
    local = validate([defect_feed], jobs=1).data
    assert _without_run(card) == _without_run(local)
    assert local["counts"]["records_unparseable"] > 0
    lines = [f["location"].get("line") for f in card["findings"] if "line" in f["location"]]
    assert lines, "findings carry line numbers"


def test_globs_name_files_as_a_shell_would(spark: Any, defect_feed: Path) -> None:
    from conformance.spark import validate_files

    card = validate_files(spark, [f"{defect_feed}/Pat*.ndjson"]).data
    local = validate([defect_feed / "Patient.ndjson"], jobs=1).data
    assert _without_run(card) == _without_run(local)


def test_a_missing_input_is_an_input_error(spark: Any, tmp_path: Path) -> None:
    from conformance.spark import validate_files

    with pytest.raises(InputError, match="no such file"):
        validate_files(spark, [str(tmp_path / "absent")])


def test_dataframe_rows_are_records_located_by_row(spark: Any, defect_feed: Path) -> None:
    from conformance.spark import validate_dataframe

    path = defect_feed / "Observation.ndjson"
    numbered = [
        (n, line) for n, line in enumerate(path.read_bytes().split(b"\n"), start=1) if line
    ][:300]
    frame = spark.createDataFrame(
        [(line.decode("utf-8", "replace"),) for _, line in numbered], ["resource"]
    ).repartition(3)
    rows = [row.resource.encode("utf-8") for row in frame.collect()]
    card = validate_dataframe(frame, "resource", name="obs-table").data
    spec = make_spec()
    expected = finish(spec, [validate_records(spec, "obs-table", enumerate(rows, 1))]).data
    assert _without_run(card) == _without_run(expected)
    assert card["counts"]["records_read"] == len(numbered)
    assert card["counts"]["records_unparseable"] > 0


def test_dataframe_column_must_hold_json_text(spark: Any) -> None:
    from conformance.spark import validate_dataframe

    frame = spark.createDataFrame([(1,)], ["resource"])
    with pytest.raises(TypeError, match="to_json"):
        validate_dataframe(frame, "resource")


def test_submit_entry_point_writes_the_json_scorecard(spark: Any, tmp_path: Path) -> None:
    from conformance.spark.submit import main

    feed = str(REPO / "sample_feeds" / "qop-failing")
    out = tmp_path / "card.json"
    code = main([feed, "--output", str(out)])
    card = json.loads(out.read_text(encoding="utf-8"))
    assert code == 1  # not conformant
    assert card["verdict"] == "Not conformant"
    assert _without_run(card) == _without_run(validate([feed], jobs=1).data)
    assert spark.sparkContext._jsc is not None  # the shared session was left running


def test_awkward_file_names_are_read_exactly(spark: Any, tmp_path: Path) -> None:
    from conformance.spark import validate_files

    folder = tmp_path / "odd"
    folder.mkdir()
    patient = b'{"resourceType": "Patient", "id": "p1"}\n'
    (folder / "a [1], b.ndjson").write_bytes(patient + b"{broken\n")
    (folder / "c*d?.ndjson").write_bytes(patient)
    (folder / "empty.ndjson").write_bytes(b"")
    card = validate_files(spark, [str(folder)]).data
    local = validate([folder], jobs=1).data
    assert _without_run(card) == _without_run(local)
    assert [i["records_read"] for i in card["inputs"]] == [2, 1, 0]

"""MDSS-PROV-*, MDSS-SEC-01 and MDSS-TAB-*: each passes on a good feed and fails where it should."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from conformance.engine.run import validate
from conformance.standards.registry import StandardRegistry
from tests.conftest import REPO

SAMPLE = REPO / "sample_feeds" / "qwo-conformant"
IDS = (
    "MDSS-PROV-01",
    "MDSS-PROV-02",
    "MDSS-PROV-03",
    "MDSS-SEC-01",
    "MDSS-TAB-01",
    "MDSS-TAB-02",
    "MDSS-STR-01",
)


@pytest.fixture(scope="module")
def standard() -> Any:
    mdss = StandardRegistry.default().resolve("mdss@1.0.0")
    return dataclasses.replace(
        mdss, requirements=tuple(r for r in mdss.requirements if r.id in IDS)
    )


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    target = tmp_path / "feed"
    shutil.copytree(SAMPLE, target)
    return target


def run(feed: Path, standard: Any) -> dict[str, Any]:
    card = validate([feed], standard).data
    card["by_id"] = {r["id"]: r for r in card["requirements"]}
    return card


def findings(card: dict[str, Any], rid: str) -> list[dict[str, Any]]:
    return [f for f in card["findings"] if f["requirement"] == rid]


def test_sample_passes_all(feed: Path, standard: Any) -> None:
    card = run(feed, standard)
    assert {r["id"]: r["status"] for r in card["requirements"]} == {i: "pass" for i in IDS}


def test_prov01_missing_and_invalid_manifest(feed: Path, standard: Any) -> None:
    manifest = orjson.loads((feed / "manifest.json").read_bytes())
    del manifest["feed"]["id"]
    manifest["feed"]["environment"] = "staging"
    (feed / "manifest.json").write_bytes(orjson.dumps(manifest))
    card = run(feed, standard)
    assert card["by_id"]["MDSS-PROV-01"]["status"] == "fail"
    messages = [f["message"] for f in findings(card, "MDSS-PROV-01")]
    assert any("feed: required" in m for m in messages)
    assert any("feed/environment: enum" in m for m in messages)
    (feed / "manifest.json").unlink()
    card = run(feed, standard)
    assert card["by_id"]["MDSS-PROV-01"]["status"] == "fail"
    assert [f["code"] for f in findings(card, "MDSS-PROV-01")] == ["manifest-missing"]
    assert card["by_id"]["MDSS-PROV-02"]["status"] == "fail"


def test_prov02_changed_unlisted_and_missing_files(feed: Path, standard: Any) -> None:
    with (feed / "Condition.ndjson").open("ab") as out:
        out.write((feed / "Condition.ndjson").read_bytes().splitlines(keepends=True)[0])
    (feed / "extra.ndjson").write_bytes((feed / "Patient.ndjson").read_bytes()[:0])
    (feed / "Location.ndjson").unlink()
    card = run(feed, standard)
    by_code = {
        (f["code"], f["location"].get("file", "").rsplit("/", 1)[-1])
        for f in findings(card, "MDSS-PROV-02")
    }
    assert ("sha256-mismatch", "Condition.ndjson") in by_code
    assert ("count-mismatch", "Condition.ndjson") in by_code
    assert ("file-not-in-manifest", "extra.ndjson") in by_code
    assert ("file-missing", "manifest.json") in by_code
    assert card["by_id"]["MDSS-PROV-02"]["status"] == "partial"


def test_prov03_meta_source(feed: Path, standard: Any) -> None:
    lines = (feed / "Patient.ndjson").read_bytes().splitlines()
    first = orjson.loads(lines[0])
    del first["meta"]["source"]
    lines[0] = orjson.dumps(first)
    (feed / "Patient.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    card = run(feed, standard)
    [finding] = findings(card, "MDSS-PROV-03")
    assert finding["location"]["line"] == 1 and finding["location"]["expression"] == "meta.source"


def test_sec01_nhs_number_in_a_file_name(feed: Path, standard: Any) -> None:
    (feed / "Patient.ndjson").rename(feed / "Patient-9990000018.ndjson")
    card = run(feed, standard)
    [finding] = findings(card, "MDSS-SEC-01")
    assert finding["code"] == "identifier-in-name"
    assert "9990000018" not in orjson.dumps(card).decode()
    assert "999 *** ****" in finding["message"]


def test_tab01_and_tab02(feed: Path, standard: Any) -> None:
    rows = (feed / "sitrep.csv").read_text().splitlines()
    header = rows[0].split(",")
    cells = rows[1].split(",")
    cells[header.index("beds_occupied")] = "lots"
    rows[1] = ",".join(cells)
    cells = rows[2].split(",")
    cells[header.index("date")] = "2025-01-01"
    rows[2] = ",".join(cells)
    (feed / "sitrep.csv").write_text("\n".join(rows) + "\n")
    card = run(feed, standard)
    tab1 = findings(card, "MDSS-TAB-01")
    assert [
        (f["location"]["line"], f["location"]["row"], f["location"]["expression"]) for f in tab1
    ] == [(2, 1, "beds_occupied")]
    tab2 = findings(card, "MDSS-TAB-02")
    assert [(f["code"], f["location"]["line"]) for f in tab2] == [("row-date-outside-period", 3)]


def test_csv_bad_rows_are_unparseable_records(feed: Path, standard: Any) -> None:
    with (feed / "sitrep.csv").open("a") as out:
        out.write("RXX01,2026-11-02\n")
    card = run(feed, standard)
    assert card["counts"]["records_unparseable"] == 1
    [finding] = findings(card, "MDSS-STR-01")
    assert finding["code"] == "csv-field-count"

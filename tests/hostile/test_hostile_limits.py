"""Every limit, hit end to end through the command line: reported, counted, never a crash.

Each limit is set small with ``--limit NAME=VALUE`` so that a small input hits it.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from conformance.limits import LIMIT_NAMES, Limits, parse_limits
from tests.conftest import CliResult, ndjson, patient, with_nhs_number

Cli = Callable[..., CliResult]


def _validate(cli: Cli, *args: Any) -> dict[str, Any]:
    result = cli("validate", *args, "--format", "json", "--no-progress", "--jobs", "1")
    assert result.code in (0, 1), result.err
    assert "Traceback" not in result.err
    card: dict[str, Any] = result.json()
    counts = card["counts"]
    assert counts["records_read"] == counts["records_validated"] + counts["records_unparseable"]
    for item in card["inputs"]:
        assert item["records_read"] == item["records_validated"] + item["records_unparseable"]
    return card


def _codes(card: dict[str, Any]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for req in card["requirements"]:
        for code, n in req.get("codes", {}).items():
            totals[code] = totals.get(code, 0) + n
    return totals


def _findings(card: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [f for f in card["findings"] if f["code"] == code]


def test_every_limit_is_named_and_parsed() -> None:
    assert set(LIMIT_NAMES) == {
        "max-line-bytes",
        "max-file-bytes",
        "max-depth",
        "max-elements",
        "max-decompressed-bytes",
        "max-ratio",
        "max-files",
        "findings-per-requirement",
    }
    limits = parse_limits(["max-line-bytes=2K", "max_depth=7", "max-files=3", "max-ratio=5"])
    assert limits == Limits(max_line_bytes=2048, max_depth=7, max_files=3, max_ratio=5)
    assert parse_limits(["findings-per-requirement=0"]).findings_per_requirement == 0


@pytest.mark.parametrize(
    "setting", ["max-lines=5", "max-depth", "max-depth=-1", "max-depth=ten", "max-depth=0"]
)
def test_bad_limit_is_a_usage_error(cli: Cli, write_ndjson: Any, setting: str) -> None:
    result = cli("validate", write_ndjson(patient()), "--limit", setting)
    assert result.code == 2
    assert result.err.startswith("conformance: error: --limit") and "Traceback" not in result.err


def test_line_length_limit(cli: Cli, tmp_path: Path) -> None:
    long_line = orjson.dumps(patient(id="long", text={"status": "generated", "div": "x" * 5000}))
    path = tmp_path / "feed.ndjson"
    path.write_bytes(ndjson(patient(id="a")) + long_line + b"\n" + ndjson(patient(id="b")))
    card = _validate(cli, path, "--limit", "max-line-bytes=4K")
    assert card["counts"]["records_read"] == 3
    assert card["counts"]["records_unparseable"] == 1
    [finding] = _findings(card, "line-too-long")
    assert finding["location"]["line"] == 2 and "4096" in finding["message"]


def test_file_size_limit(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "patient.json"
    path.write_bytes(orjson.dumps(patient(), option=orjson.OPT_INDENT_2))
    card = _validate(cli, path, "--limit", "max-file-bytes=100")
    assert card["counts"]["records_unparseable"] == 1
    assert _codes(card)["file-too-large"] == 1


def test_depth_limit(cli: Cli, tmp_path: Path) -> None:
    deep: Any = "bottom"
    for _ in range(12):
        deep = {"extension": [deep]}
    path = tmp_path / "feed.ndjson"
    path.write_bytes(ndjson(patient(id="ok"), patient(id="deep", _gender=deep)))
    card = _validate(cli, path, "--limit", "max-depth=10")
    [finding] = _findings(card, "too-deep")
    assert finding["location"]["line"] == 2 and "10 levels" in finding["message"]
    assert card["counts"]["records_unparseable"] == 1
    # ...and the default limit (128) accepts the same record.
    assert "too-deep" not in _codes(_validate(cli, path))


def test_decompressed_size_limit(cli: Cli, tmp_path: Path) -> None:
    records = [patient(id=f"p{i}") for i in range(200)]
    path = tmp_path / "feed.ndjson.gz"
    path.write_bytes(gzip.compress(ndjson(*records)))
    card = _validate(cli, path, "--limit", "max-decompressed-bytes=64K")
    [finding] = _findings(card, "limit-exceeded")
    assert "65536 bytes" in finding["message"]
    assert finding["location"]["line"] > 1  # where reading stopped
    read = card["counts"]["records_read"]
    assert 0 < read < 200  # what came before the limit was read and counted
    assert read == finding["location"]["line"] - 1


def test_decompression_ratio_limit_gzip(cli: Cli, tmp_path: Path) -> None:
    # 20 MiB of spaces then one record: compresses about 1000:1, past the 16 MiB floor.
    bomb = b" " * (20 * 1024 * 1024) + ndjson(patient())
    path = tmp_path / "bomb.ndjson.gz"
    path.write_bytes(gzip.compress(bomb, compresslevel=9))
    card = _validate(cli, path, "--limit", "max-ratio=100")
    [finding] = _findings(card, "limit-exceeded")
    assert "100:1" in finding["message"]


def test_decompression_ratio_limit_zip(cli: Cli, tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("feed/Patient.ndjson", ndjson(patient()))
        zipped.writestr("feed/padding.ndjson", b" " * (20 * 1024 * 1024))
    path = tmp_path / "feed.zip"
    path.write_bytes(out.getvalue())
    card = _validate(cli, path, "--limit", "max-ratio=100")
    [finding] = _findings(card, "limit-exceeded")
    assert "100:1" in finding["message"] and "padding" in finding["location"]["file"]
    assert card["counts"]["records_read"] == 1  # the member before the bomb was read
    # ...and the member cut short by the limit was not left behind to be read.
    assert [i["file"].rsplit("/", 1)[-1] for i in card["inputs"]] == ["Patient.ndjson"]


def test_file_count_limit(cli: Cli, tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    for i in range(5):
        (feed / f"part{i}.ndjson").write_bytes(ndjson(patient(id=f"p{i}")))
    card = _validate(cli, feed, "--limit", "max-files=3")
    assert len(card["inputs"]) == 3
    assert card["counts"]["records_read"] == 3
    [finding] = _findings(card, "limit-exceeded")
    assert "more than 3 files" in finding["message"]


def test_archive_file_count_limit(cli: Cli, tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zipped:
        for i in range(5):
            zipped.writestr(f"feed/part{i}.ndjson", ndjson(patient(id=f"p{i}")))
    path = tmp_path / "feed.zip"
    path.write_bytes(out.getvalue())
    card = _validate(cli, path, "--limit", "max-files=2")
    assert card["counts"]["records_read"] == 2
    assert any("more than 2 files" in f["message"] for f in _findings(card, "limit-exceeded"))


@pytest.mark.parametrize("how", ["--limit", "--max-findings"])
def test_findings_kept_per_requirement(cli: Cli, write_ndjson: Any, how: str) -> None:
    bad = [with_nhs_number("9990000019", rid=f"p{i}") for i in range(25)]  # bad check digit
    path = write_ndjson(*bad)
    arg = "findings-per-requirement=3" if how == "--limit" else "3"
    card = _validate(cli, path, how, arg)
    [req] = [r for r in card["requirements"] if r["id"] == "MDSS-ID-02"]
    assert req["codes"]["nhs-number-check-digit"] == 25  # counts stay exact
    kept = [f for f in card["findings"] if f["requirement"] == "MDSS-ID-02"]
    assert len(kept) == 3
    assert all(
        len([f for f in card["findings"] if f["requirement"] == r["id"]]) <= 3
        for r in card["requirements"]
    )


def test_depth_limit_on_xml(cli: Cli, tmp_path: Path) -> None:
    nested = '<extension url="u">' * 12 + '<valueString value="x"/>' + "</extension>" * 12
    xml = f'<Patient xmlns="http://hl7.org/fhir"><id value="deep"/>{nested}</Patient>'
    path = tmp_path / "deep.xml"
    path.write_text(xml)
    card = _validate(cli, path, "--limit", "max-depth=10")
    [finding] = _findings(card, "too-deep")
    assert "10 levels" in finding["message"]
    assert card["counts"]["records_unparseable"] == 1

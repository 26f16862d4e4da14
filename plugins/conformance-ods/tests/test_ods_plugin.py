"""conformance-ods: codes checked against a synthetic ODS extract (made-up codes)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from conformance_ods import plugin as ods_plugin
from conformance_ods.reference import ReferenceError_, load_reference, parse_extract

from conformance import validate
from conformance.errors import StandardError
from conformance.plugin import build_plugins

DATA = Path(__file__).parent / "data"
ORG = "https://fhir.nhs.uk/Id/ods-organization-code"
SITE = "https://fhir.nhs.uk/Id/ods-site-code"

STANDARD = """\
id: ods-test
version: 1.0.0
title: ODS test
status: active
fhir_version: 4.0.1
publisher: tests
requirements:
  - id: ODS-ORG-01
    title: ODS codes are known and open
    level: MUST
    domain: organisation
    rationale: Attribution.
    source: NHS ODS
    check: {check}
"""


def _standard(tmp_path: Path, check: str) -> Path:
    folder = tmp_path / "std"
    folder.mkdir(exist_ok=True)
    (folder / "standard.yaml").write_text(STANDARD.format(check=check))
    return folder


def _encounter(rid: str, provider: str, start: str, site: str | None = None) -> dict[str, Any]:
    enc: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": rid,
        "status": "finished",
        "class": {"code": "AMB"},
        "period": {"start": start},
        "serviceProvider": {"identifier": {"system": ORG, "value": provider}},
    }
    if site is not None:
        enc["location"] = [{"location": {"identifier": {"system": SITE, "value": site}}}]
    return enc


def _feed(tmp_path: Path, *resources: dict[str, Any]) -> Path:
    path = tmp_path / "feed.ndjson"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in resources))
    return path


def _plugins() -> Any:
    return build_plugins(extra=[ods_plugin], load_entry_points=False)


def test_extract_layout_is_read() -> None:
    ref = load_reference([DATA])
    assert len(ref) == 8
    assert ref.entries["RZY"].closed == datetime.date(2020, 3, 31)
    assert ref.entries["RZZ01"].kind == "site"
    assert ref.entries["Z99002"].status == "D"
    assert sorted(ref.sources) == ["epraccur.csv", "etr.csv", "ets.csv"]


def test_problems_by_date() -> None:
    ref = load_reference([DATA / "etr.csv", DATA / "epraccur.csv"])
    on = datetime.date(2026, 11, 1)
    assert ref.problem("RZZ", on) is None
    assert ref.problem("RZY", on) == "closed"
    assert ref.problem("RZY", datetime.date(2019, 1, 1)) is None
    assert ref.problem("RZX", on) == "not-yet-open"
    assert ref.problem("RQQ", on) == "unknown"
    assert ref.problem("Z99002", on) == "inactive"
    assert ref.problem("Z99003", datetime.date(2019, 1, 1)) is None
    assert ref.problem("Z99003", on) == "closed"


def test_every_code_the_check_emits_is_registered() -> None:
    """``ods-code-{problem}`` for every problem the reference can name."""
    catalogue = build_plugins(extra=[ods_plugin], load_entry_points=False).registry.finding_codes
    emitted = {f"ods-code-{problem}" for problem in ods_plugin._MESSAGES}
    assert emitted == {entry.code for entry in ods_plugin.FINDING_CODES}
    assert all(catalogue.owner(code) == "conformance_ods.plugin" for code in emitted)


def test_bad_extracts_are_reported() -> None:
    with pytest.raises(ReferenceError_, match=r"x\.csv:1: 3 columns"):
        parse_extract('"A","B","C"\n', "trust", "x.csv")
    with pytest.raises(ReferenceError_, match=r"x\.csv:1: '2020-01-01' is not a YYYYMMDD date"):
        parse_extract(
            ",".join(['"RZZ"'] + ['""'] * 9 + ['"2020-01-01"', '""']) + "\n", "trust", "x.csv"
        )


def test_feed_is_checked_against_the_reference(tmp_path: Path) -> None:
    std = _standard(tmp_path, f"{{type: ods-reference, reference: {DATA}}}")
    feed = _feed(
        tmp_path,
        _encounter("e1", "RZZ", "2026-11-01T10:00:00Z", site="RZZ01"),
        _encounter("e2", "RZY", "2026-11-01T10:00:00Z"),
        _encounter("e3", "RZX", "2026-11-01"),
        _encounter("e4", "RQQ", "2026-11-01", site="RZZ02"),
        _encounter("e5", "RZY", "2019-06-01"),  # open back then
        {
            "resourceType": "Patient",
            "id": "p1",
            "meta": {"lastUpdated": "2026-11-01T00:00:00Z"},
            "generalPractitioner": [{"identifier": {"system": ORG, "value": "Z99002"}}],
        },
    )
    card = validate([feed], str(std), plugins=_plugins()).data
    req = card["requirements"][0]
    assert (req["numerator"], req["denominator"]) == (2, 6)
    assert req["codes"] == {
        "ods-code-closed": 2,
        "ods-code-not-yet-open": 1,
        "ods-code-unknown": 1,
        "ods-code-inactive": 1,
    }
    by_line = {f["location"]["line"]: f for f in card["findings"]}
    assert by_line[4]["location"]["expression"] in (
        "Encounter.serviceProvider.identifier.value",
        "Encounter.location[0].location.identifier.value",
    )
    assert by_line[6]["location"]["expression"] == "Patient.generalPractitioner[0].identifier.value"
    assert "Z99002" in by_line[6]["message"]  # an organisation code, not patient data


def test_reference_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    std = _standard(tmp_path, "{type: ods-reference}")
    feed = _feed(tmp_path, _encounter("e1", "RZY", "2026-01-01"))
    monkeypatch.setenv("CONFORMANCE_ODS_DATA", str(DATA / "etr.csv"))
    card = validate([feed], str(std), plugins=_plugins()).data
    assert card["requirements"][0]["codes"] == {"ods-code-closed": 1}
    monkeypatch.delenv("CONFORMANCE_ODS_DATA")
    with pytest.raises(StandardError, match="no ODS reference data: set \\$CONFORMANCE_ODS_DATA"):
        validate([feed], str(std), plugins=_plugins())


def test_relative_reference_is_relative_to_the_standard(tmp_path: Path) -> None:
    std = _standard(tmp_path, "{type: ods-reference, reference: ods/}")
    with pytest.raises(StandardError, match=r"ODS reference data .*std/ods: no such file"):
        validate(
            [_feed(tmp_path, _encounter("e1", "RZZ", "2026-01-01"))], str(std), plugins=_plugins()
        )
    (std / "ods").mkdir()
    (std / "ods" / "etr.csv").write_bytes((DATA / "etr.csv").read_bytes())
    card = validate(
        [_feed(tmp_path, _encounter("e1", "RZZ", "2026-01-01"))], str(std), plugins=_plugins()
    ).data
    assert card["requirements"][0]["status"] == "pass"


def test_installed_as_an_entry_point() -> None:
    from importlib.metadata import entry_points

    names = {ep.name for ep in entry_points(group="conformance")}
    assert "conformance_ods" in names, "pip install plugins/conformance-ods"
    assert "conformance_ods" in build_plugins().names()

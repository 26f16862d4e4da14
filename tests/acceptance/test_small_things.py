"""The small things a new user trips on, each through the command line."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from conformance.__about__ import __version__
from tests.conftest import FIXTURES, REPO, CliResult, ndjson, patient

pytestmark = pytest.mark.acceptance

Cli = Callable[..., CliResult]
SAMPLES = REPO / "sample_feeds"
BAD = FIXTURES / "feeds" / "non-conformant"


def _files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


def test_board_history_with_no_database_says_so_and_creates_nothing(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONFORMANCE_HISTORY_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    result = cli("board", "--history")
    assert result.code == 2
    expected = tmp_path / "data" / "conformance" / "history.sqlite3"
    assert result.err.startswith(f"conformance: error: {expected}: no history database there")
    assert "--record" in result.err and result.err.count("\n") == 1
    assert _files(tmp_path) == []


def test_board_on_an_empty_database_says_it_is_empty(cli: Cli, tmp_path: Path) -> None:
    from conformance.history import HistoryStore

    db = tmp_path / "history.sqlite3"
    HistoryStore(db).close()
    result = cli("board", "--db", db)
    assert result.code == 2
    assert "holds no scorecards yet" in result.err


@pytest.mark.parametrize("command", [["list"], ["show", "1"], ["submissions", "A", "B", "mdss"]])
def test_history_on_a_missing_database_is_an_error_and_creates_nothing(
    cli: Cli, tmp_path: Path, command: list[str]
) -> None:
    db = tmp_path / "nope" / "deeper" / "history.sqlite3"
    result = cli("history", *command, "--db", db)
    assert result.code == 2
    assert f"{db}: no history database there" in result.err
    assert _files(tmp_path) == []


def test_history_add_reads_the_scorecards_before_creating_the_database(
    cli: Cli, tmp_path: Path
) -> None:
    (tmp_path / "bad.json").write_text("{}")
    result = cli("history", "add", "--db", tmp_path / "h.sqlite3", tmp_path / "bad.json")
    assert result.code == 2
    assert not (tmp_path / "h.sqlite3").exists()


def test_standards_lint_names_the_file_given(cli: Cli, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nversion: 1.0.0\nrequirements: [\n")
    result = cli("standards", "lint", broken)
    assert result.code == 1
    assert result.out.startswith(f"{broken}:")
    assert "standard.yaml" not in result.out
    local = tmp_path / "local.yaml"
    local.write_text((FIXTURES / "standards" / "negative" / "bad-level.yaml").read_text())
    result = cli("standards", "lint", local)
    assert f"{local}:11: requirements[0] (BAD-ID-01).level" in result.out


def _bad_codes(tmp_path: Path) -> Path:
    resource = patient(gender="xyzzy")
    feed = tmp_path / "feed.ndjson"
    feed.write_bytes(ndjson(resource))
    return feed


def test_show_values_shows_the_rejected_code_only_when_asked(cli: Cli, tmp_path: Path) -> None:
    feed = _bad_codes(tmp_path)
    shown = cli("validate", feed, "--show-values")
    assert "MDSS-TERM-02" in shown.out
    assert "; given xyzzy" in shown.out
    default = cli("validate", feed, "--format", "json")
    assert "xyzzy" not in default.out
    messages = [
        f["message"] for f in default.json()["findings"] if f["requirement"] == "MDSS-TERM-02"
    ]
    assert messages and all("given <rejected code: 5 characters>" in m for m in messages)
    assert "xyzzy" not in cli("validate", feed).out  # the terminal masks it too by default
    to_files = cli("validate", feed, "--show-values", "--output-dir", tmp_path / "out")
    assert to_files.code == 2 and not (tmp_path / "out").exists()  # never into files


def test_version_flag_in_a_real_process() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0
    assert proc.stdout == f"conformance {__version__}\n"


def test_quiet_prints_nothing_and_the_exit_code_tells(cli: Cli, tmp_path: Path) -> None:
    result = cli("validate", BAD, "--quiet")
    assert (result.code, result.out, result.err) == (1, "", "")
    out = tmp_path / "card.json"
    result = cli("validate", BAD, "-q", "-f", "json", "-o", out)
    assert (result.code, result.out, result.err) == (1, "", "")
    assert orjson.loads(out.read_bytes())["verdict"] == "Not conformant"


@pytest.mark.parametrize("spelling", ["JSON", "Json", "json"])
def test_formats_are_case_insensitive(cli: Cli, spelling: str, tmp_path: Path) -> None:
    result = cli("validate", BAD, "--format", spelling)
    assert result.code == 1
    assert result.json()["verdict"] == "Not conformant"
    saved = tmp_path / "card.json"
    saved.write_text(result.out)
    render = cli("scorecard", "render", saved, "--format", spelling.replace("JSON", "SARIF"))
    assert render.code == 0, render.err


def test_terminal_groups_findings_by_code_with_counts(cli: Cli) -> None:
    out = cli("validate", SAMPLES / "qop-failing").out
    section = out[out.index("Findings by code") :]
    card = cli("validate", SAMPLES / "qop-failing", "-f", "json").json()
    counts = {
        (r["id"], code): n for r in card["requirements"] for code, n in r["codes"].items() if n
    }
    rows = re.findall(r"^\s+(\d+)  (\w+)\s+(MDSS-[A-Z]+-\d+)\s+([a-z0-9-]+)$", section, re.M)
    assert {(rid, code): int(n) for n, _, rid, code in rows} == counts
    assert len(rows) == len({(rid, code) for _, _, rid, code in rows})  # each code once
    assert "179  error       MDSS-TIME-01  last-updated-missing" in section
    assert "(+176 more)" in section


def test_help_lists_every_exit_code_of_the_readme(cli: Cli) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("### Exit codes") :]
    codes = re.findall(r"^\| (\d+) \|", table, re.M)
    assert codes == ["0", "1", "2", "3", "130"]
    for argv in (
        [sys.executable, "-m", "conformance", "--help"],
        [sys.executable, "-m", "conformance", "validate", "--help"],
    ):
        text = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=60).stdout
        epilog = " ".join(text[text.index("Exit codes:") :].split())
        assert [c for c in codes if re.search(rf"\b{c} [a-z]", epilog)] == codes, epilog


XML_PATIENT = """<?xml version="1.0" encoding="UTF-8"?>
<Patient xmlns="http://hl7.org/fhir">
  <id value="p1"/>
  <text>
    <status value="generated"/>
    <div xmlns="http://www.w3.org/1999/xhtml"><p>Patient</p><p>more</p></div>
  </text>
  <identifier>
    <system value="https://fhir.nhs.uk/Id/other"/>
    <value value="x"/>
  </identifier>
  <identifier>
    <system value="https://fhir.nhs.uk/Id/nhs-number"/>
    <value value="9990000019"/>
  </identifier>
  <gender value="xyzzy"/>
</Patient>
"""


def test_a_finding_in_fhir_xml_points_at_its_element_line(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "patient.xml").write_text(XML_PATIENT)
    card = cli("validate", tmp_path / "patient.xml", "--environment", "test", "-f", "json").json()
    lines = {
        (f["requirement"], f["location"].get("expression")): f["location"].get("line")
        for f in card["findings"]
    }
    assert lines[("MDSS-ID-02", "Patient.identifier[1].value")] == 14
    assert lines[("MDSS-TERM-02", "Patient.gender")] == 16
    assert lines[("MDSS-TIME-01", "Patient.meta.lastUpdated")] == 2  # missing: the resource


def test_a_finding_in_an_xml_bundle_entry_points_at_its_element_line(
    cli: Cli, tmp_path: Path
) -> None:
    body = XML_PATIENT.split("\n", 1)[1].replace(' xmlns="http://hl7.org/fhir"', "")
    bundle = (
        '<Bundle xmlns="http://hl7.org/fhir">\n  <type value="collection"/>\n'
        '  <entry>\n    <fullUrl value="urn:uuid:1"/>\n    <resource>\n'
        + body
        + "    </resource>\n  </entry>\n</Bundle>\n"
    )
    (tmp_path / "bundle.xml").write_text(bundle)
    card = cli("validate", tmp_path / "bundle.xml", "--environment", "test", "-f", "json").json()
    gender = next(f for f in card["findings"] if f["requirement"] == "MDSS-TERM-02")
    assert gender["location"]["entry"] == 0
    assert (
        gender["location"]["line"]
        == [s.strip() for s in bundle.splitlines()].index('<gender value="xyzzy"/>') + 1
    )


def test_xml_element_paths() -> None:
    from conformance.readers.locate import expression_path, xml_element_lines, xml_line

    lines = xml_element_lines(XML_PATIENT.encode())
    assert lines[()] == 2 and lines[("identifier", 1, "value", 0)] == 14
    assert ("text", 0, "div", 0, "p", 0) not in lines  # XHTML is not entered
    assert expression_path("Patient.generalPractitioner.identifier(https://x.org/a.b).value") == (
        "generalPractitioner",
        0,
    )
    assert xml_line(lines, "Patient.identifier[1].system", None) == 13
    assert xml_element_lines(b"<!DOCTYPE x [<!ENTITY a 'b'>]><x/>") == {}

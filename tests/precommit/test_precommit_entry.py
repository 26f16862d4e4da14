"""The conformance-feeds hook's entry point, in process: any file name, every feed file type."""

from __future__ import annotations

import io
import json
import re
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.cli.common import Io
from conformance.cli.precommit import plan, run, split_arguments
from tests.conftest import FIXTURES, REPO

GOOD = FIXTURES / "feeds" / "conformant"
IDENTITY = f"--standard={FIXTURES / 'standards' / 'identity'}"  # the fixture conforms to it
XML_PATIENT = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<Patient xmlns="http://hl7.org/fhir">\n  <id value="xml-1"/>\n'
    '  <gender value="female"/>\n</Patient>\n'
)


def _hook() -> dict[str, Any]:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    hook: dict[str, Any] = next(h for h in hooks if h["id"] == "conformance-feeds")
    return hook


@pytest.mark.parametrize(
    "name",
    [
        "Patient.json",
        "Patient.ndjson",
        "Patient.ndjson.gz",
        "bundle.json.gz",
        "Patient.xml",
        "Patient.xml.gz",
        "sitrep.csv",
        "feed.zip",
        "feed.tar.gz",
        "feed.tgz",
        "feed.tar",
        "PATIENT.NDJSON",
        "feeds/ICS QWO \u2013 Nov 2026/-leading dash.ndjson",
    ],
)
def test_the_hook_is_given_every_feed_file_type(name: str) -> None:
    assert re.search(_hook()["files"], name), name


@pytest.mark.parametrize("name", ["README.md", "standard.yaml", "tool.py", "notes.txt"])
def test_the_hook_is_not_given_other_files(name: str) -> None:
    assert not re.search(_hook()["files"], name), name


def test_the_entry_point_is_the_python_module() -> None:
    assert _hook()["entry"] == "python -m conformance.cli.precommit"


def _feed(folder: Path, files: dict[str, bytes]) -> Path:
    """A feed whose manifest lists ``files`` (names kept exactly)."""
    folder.mkdir(parents=True)
    manifest = json.loads((GOOD / "manifest.json").read_text())
    manifest["files"] = []
    for name, data in files.items():
        (folder / name).write_bytes(data)
        count = data.count(b"\n") if name.endswith(".ndjson") else 1
        manifest["files"].append({"path": name, "type": "Patient", "count": count})
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False))
    return folder


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), Io(out, err))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_any_file_name_reaches_its_feed(repo: Path) -> None:
    patients = (GOOD / "Patient.ndjson").read_bytes()
    _feed(repo / "feeds" / "ICS QWO \u2013 Nov 2026", {"Patient records (Nov).ndjson": patients})
    _feed(repo / "feeds" / "-dash", {"-leading.ndjson": patients})
    _feed(repo / "ünïcødé feed", {"Pätient.xml": XML_PATIENT.encode()})
    staged = [
        "feeds/ICS QWO \u2013 Nov 2026/Patient records (Nov).ndjson",
        "feeds/-dash/-leading.ndjson",
        "ünïcødé feed/Pätient.xml",
        "feeds/-dash/manifest.json",  # the same feed twice: validated once
    ]
    code, out, err = _run("--format=json", "--fail-on", "never", IDENTITY, *staged)
    assert code == 0, err
    cards = json.loads(out)
    assert [c["feed"]["root"] for c in cards] == [
        "feeds/ICS QWO \u2013 Nov 2026",
        "feeds/-dash",
        "ünïcødé feed",
    ]
    assert [i["file"] for c in cards for i in c["inputs"]] == [
        "Patient records (Nov).ndjson",
        "-leading.ndjson",
        "Pätient.xml",
    ]
    assert cards[2]["inputs"][0]["format"] == "xml"
    assert cards[2]["counts"]["records_read"] == 1
    assert [c["verdict"] for c in cards[:2]] == ["Conformant", "Conformant"]


def test_a_broken_file_fails_the_hook_and_the_worst_code_wins(repo: Path) -> None:
    patients = (GOOD / "Patient.ndjson").read_bytes()
    _feed(repo / "good feed", {"Patient.ndjson": patients})
    _feed(repo / "bad feed", {"Patient.ndjson": patients + b"{not json\n"})
    code, out, _ = _run(IDENTITY, "good feed/Patient.ndjson", "bad feed/Patient.ndjson")
    assert code == 1
    assert "=== good feed (1 of 2) ===" in out and "=== bad feed (2 of 2) ===" in out
    assert "Exit code 1: the worst of the runs" in out


def test_archives_outside_a_feed_are_feeds(repo: Path) -> None:
    exports = repo / "exports"
    exports.mkdir()
    with zipfile.ZipFile(exports / "qwo 2026-11.zip", "w") as zipped:
        for path in GOOD.iterdir():
            zipped.write(path, f"qwo/{path.name}")
    with tarfile.open(exports / "-qwo.tar.gz", "w:gz") as tarred:
        tarred.add(GOOD, arcname="qwo")
    code, out, err = _run(
        "--format=json", IDENTITY, "exports/qwo 2026-11.zip", "exports/-qwo.tar.gz"
    )
    assert code == 0, err
    cards = json.loads(out)
    assert [(c["feed"]["root"], c["verdict"]) for c in cards] == [
        ("exports/qwo 2026-11.zip", "Conformant"),
        ("exports/-qwo.tar.gz", "Conformant"),
    ]


def test_loose_files_other_than_resources_are_listed_and_skipped(repo: Path) -> None:
    (repo / "loose sitrep.csv").write_text("site,beds\n")
    code, out, _ = _run("loose sitrep.csv")
    assert code == 0
    assert "loose sitrep.csv is not in a feed folder" in out
    assert plan(["loose sitrep.csv"]).loose == ["loose sitrep.csv"]


def test_arguments_are_files_when_they_exist(repo: Path) -> None:
    (repo / "--fail-on=should").write_text("")  # absurd, but a file is a file
    options, files = split_arguments(
        ["--standard", "mdss@1", "--fail-on=never", "-q", "--fail-on=should", "x y.ndjson"]
    )
    assert options == ["--standard", "mdss@1", "--fail-on=never", "-q"]
    assert files == ["--fail-on=should", "x y.ndjson"]

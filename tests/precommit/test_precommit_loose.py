"""The conformance-feeds hook on loose resource files (outside any feed folder): each is
validated record by record with the standard's record-level requirements."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conformance.cli.precommit import plan
from tests.conftest import FIXTURES, REPO, patient
from tests.precommit.test_precommit_entry import _run, repo

__all__ = ["repo"]  # the fixture, shared with the entry point's tests

GOOD = FIXTURES / "feeds" / "conformant"
EXAMPLES = REPO / "examples" / "fhir"


def test_loose_resource_files_are_planned_for_record_by_record_validation(repo: Path) -> None:
    names = ["a.json", "b.NDJSON", "c.xml.gz", "d.csv"]
    for name in names:
        (repo / name).write_text("")
    todo = plan(names)
    assert (todo.records, todo.loose, todo.feeds) == (
        ["a.json", "b.NDJSON", "c.xml.gz"],
        ["d.csv"],
        [],
    )


def test_a_good_loose_resource_file_passes_with_feed_level_requirements_not_applicable(
    repo: Path,
) -> None:
    shutil.copy(GOOD / "Patient.ndjson", repo / "loose patient.ndjson")
    code, out, err = _run("--format=json", "loose patient.ndjson")
    assert code == 0, err
    card = json.loads(out)
    assert card["counts"]["records_read"] == card["counts"]["records_validated"] == 3
    status = {r["id"]: r["status"] for r in card["requirements"]}
    assert status["MDSS-PROV-01"] == "not-applicable"  # the manifest: a feed-level requirement
    assert status["MDSS-COMP-01"] == "not-applicable"
    assert status["MDSS-ID-01"] == status["MDSS-STR-02"] == status["MDSS-STR-03"] == "pass"
    assert card["verdict"] != "Not conformant"


def test_a_broken_loose_resource_fails_the_hook(repo: Path) -> None:
    bad = patient(gender="woman")  # not in the required value set
    (repo / "bad.json").write_text(json.dumps(bad))
    code, out, _ = _run("--format=json", "bad.json")
    assert code == 1
    card = json.loads(out)
    failed = {r["id"] for r in card["requirements"] if r["status"] == "fail"}
    assert "MDSS-STR-02" in failed
    (repo / "broken.ndjson").write_text(json.dumps(patient()) + "\n{not json\n")
    code, _, _ = _run("broken.ndjson")
    assert code == 1


def test_with_the_fhir_r4_standard_loose_files_are_judged_as_a_fhir_validator_would(
    repo: Path,
) -> None:
    shutil.copy(EXAMPLES / "patient.json", repo / "good.json")
    shutil.copy(EXAMPLES / "patient-bad.json", repo / "bad.json")
    assert _run("--standard=fhir-r4", "good.json")[0] == 0
    assert _run("--standard=fhir-r4", "bad.json")[0] == 1


def test_feeds_and_loose_files_in_one_commit_each_get_their_run(repo: Path) -> None:
    shutil.copytree(GOOD, repo / "feed")
    shutil.copy(EXAMPLES / "patient-bad.json", repo / "bad.json")  # no NHS Number
    ident = f"--standard={FIXTURES / 'standards' / 'identity'}"
    code, out, _ = _run("--format=json", ident, "feed/Patient.ndjson", "bad.json")
    feed, loose = json.loads(out)
    assert feed["feed"]["root"] == "feed" and feed["verdict"] == "Conformant"
    status = {r["id"]: r["status"] for r in feed["requirements"]}
    loose_status = {r["id"]: r["status"] for r in loose["requirements"]}
    # the feed keeps its feed-level requirement; for the loose file it is not applicable
    assert (status["IDT-ID-08"], loose_status["IDT-ID-08"]) == ("pass", "not-applicable")
    assert loose_status["IDT-ID-01"] == "fail"
    assert code == 1  # the worst of the two runs

"""Standards authoring: lint, diff with a semver verdict, scaffolding, and MDSS 1.1.0."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.engine.run import validate
from conformance.standards.authoring import (
    Bump,
    diff_standards,
    lint_standard,
    scaffold_extension,
    version_bump,
)
from conformance.standards.model import Level
from conformance.standards.registry import StandardRegistry
from tests.conftest import FIXTURES, REPO

TOY = Path(__file__).parent / "fixtures" / "toy"


def _registry() -> StandardRegistry:
    return StandardRegistry.default()


def test_mdss_1_1_is_a_correct_minor_version(cli: Any) -> None:
    result = cli("standards", "diff", "mdss@1.0.0", "mdss@1.1.0")
    assert result.code == 0, result.out
    assert "OK: 1.0.0 -> 1.1.0 is a minor version; the changes need minor" in result.out
    data = json.loads(cli("standards", "diff", "mdss@1.0.0", "mdss@1.1.0", "-f", "json").out)
    kinds = {(c["kind"], c["subject"]) for c in data["changes"]}
    assert {
        ("added", "MDSS-ID-09"),
        ("added", "MDSS-TIME-05"),
        ("threshold-raised", "MDSS-ID-04"),
        ("deprecated", "MDSS-ID-06"),
    } <= kinds
    assert data["required_bump"] == "minor" and data["ok"] is True
    assert not any(c["needs"] == "major" for c in data["changes"])


def test_wrong_bump_on_fixture_is_flagged(cli: Any) -> None:
    wrong = cli("standards", "diff", TOY / "1.0.0", TOY / "1.0.1")
    assert wrong.code == 1
    assert "TOY-ID-02      SHOULD -> MUST  [major]" in wrong.out
    assert "WRONG: 1.0.0 -> 1.0.1 is a patch version but the changes need a major" in wrong.out
    right = cli("standards", "diff", TOY / "1.0.0", TOY / "2.0.0")
    assert right.code == 0 and "OK: 1.0.0 -> 2.0.0 is a major version" in right.out
    backwards = cli("standards", "diff", TOY / "2.0.0", TOY / "1.0.0")
    assert backwards.code == 1 and "does not go forward" in backwards.out


def test_each_kind_of_change_needs_the_documented_bump() -> None:
    old = _registry().load_folder(TOY / "1.0.0")
    must, should = old.requirements

    def with_reqs(*reqs: Any, version: str = "1.0.0") -> Any:
        return dataclasses.replace(old, requirements=tuple(reqs), version=version)

    cases = [
        (with_reqs(must), "removed", Bump.MAJOR),
        (with_reqs(must, should, dataclasses.replace(should, id="TOY-ID-03")), "added", Bump.MINOR),
        (with_reqs(must, should, dataclasses.replace(must, id="TOY-ID-03")), "added", Bump.MAJOR),
        (
            with_reqs(dataclasses.replace(must, level=Level.SHOULD), should),
            "level-lowered",
            Bump.MINOR,
        ),
        (
            with_reqs(dataclasses.replace(must, threshold=0.99), should),
            "threshold-lowered",
            Bump.MINOR,
        ),
        (
            with_reqs(must, dataclasses.replace(should, threshold=0.95)),
            "threshold-raised",
            Bump.MINOR,
        ),
        (with_reqs(dataclasses.replace(must, applies_to=()), should), "scope-widened", Bump.MAJOR),
        (
            with_reqs(dataclasses.replace(must, status="deprecated"), should),
            "deprecated",
            Bump.MINOR,
        ),
        (
            with_reqs(dataclasses.replace(must, title="Reworded"), should),
            "text-changed",
            Bump.PATCH,
        ),
        (
            with_reqs(
                dataclasses.replace(
                    must, check=dataclasses.replace(must.check, type="nhs-number-range")
                ),
                should,
            ),
            "check-changed",
            Bump.MAJOR,
        ),
    ]
    for new, kind, needs in cases:
        diff = diff_standards(old, new)
        assert [(c.kind, c.needs) for c in diff.changes] == [(kind, needs)], kind


def test_version_bump() -> None:
    assert version_bump("1.0.0", "1.0.1") is Bump.PATCH
    assert version_bump("1.0.0", "1.1.0") is Bump.MINOR
    assert version_bump("1.4.2", "2.0.0") is Bump.MAJOR
    assert version_bump("0.3.0", "0.4.0") is Bump.MAJOR  # 0.x: a minor step may break
    assert version_bump("1.1.0", "1.0.9") is None
    assert version_bump("1.0.0", "1.0.0") is Bump.NONE


def test_feeds_pinned_to_1_0_0_are_judged_by_1_0_0() -> None:
    feed = FIXTURES / "feeds" / "conformant"
    pinned = validate([feed]).data
    assert pinned["standard"]["version"] == "1.0.0"
    assert "MDSS-ID-09" not in {r["id"] for r in pinned["requirements"]}
    told = validate([feed], "mdss@1.1.0").data
    assert told["standard"]["version"] == "1.1.0"
    ids = {r["id"] for r in told["requirements"]}
    assert {"MDSS-ID-09", "MDSS-TIME-05", "MDSS-ID-06"} <= ids
    # 1.1.0 is a draft until it takes effect: unpinned references still get 1.0.0.
    assert _registry().resolve("mdss").version == "1.0.0"
    assert _registry().resolve("mdss@1").version == "1.0.0"


def test_mdss_1_1_is_generated_from_1_0_0() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "make_mdss_1_1.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_lint_passes_on_shipped_standards(cli: Any) -> None:
    for version in ("1.0.0", "1.1.0"):
        result = cli("standards", "lint", REPO / "standards" / "mdss" / version)
        assert result.code == 0, result.out
        assert f"mdss@{version}: OK (" in result.out


def _toy_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "toy" / "1.0.0"
    shutil.copytree(TOY / "1.0.0", folder)
    return folder


def test_lint_finds_authoring_problems(tmp_path: Path) -> None:
    folder = _toy_copy(tmp_path)
    text = (folder / "standard.yaml").read_text()
    text = text.replace("    threshold: 0.9\n", "    threshold: 0\n    replaced_by: TOY-ID-01\n")
    text = text.replace(
        "check: {type: nhs-number-valid}",
        "check: {type: nhs-number-valid, value_set: 'https://example.org/ValueSet/none'}",
    )
    text += "profiles:\n  Patient: [https://example.org/StructureDefinition/missing]\n"
    (folder / "standard.yaml").write_text(text)
    (folder / "terminology").mkdir()
    (folder / "terminology" / "broken.json").write_text("{not json")
    out, ok = lint_standard(str(folder))
    assert not ok
    assert "TOY-ID-02: a threshold of 0 can never fail" in out
    assert "TOY-ID-02: replaced_by is set but the requirement is not deprecated" in out
    assert "value set https://example.org/ValueSet/none is not in terminology/" in out
    assert "broken.json: cannot be read as FHIR" in out
    # No requirement validates against the profile yet: a warning, not an error.
    assert (
        "warning: profiles.Patient: profile https://example.org/StructureDefinition/missing" in out
    )


def test_lint_reports_load_errors_with_the_line(tmp_path: Path) -> None:
    folder = _toy_copy(tmp_path)
    text = (folder / "standard.yaml").read_text().replace("level: SHOULD", "level: OUGHT")
    (folder / "standard.yaml").write_text(text)
    out, ok = lint_standard(str(folder))
    assert not ok and "standard.yaml:23: requirements[1] (TOY-ID-02).level" in out


def test_new_scaffolds_an_extension_that_lints_and_runs(cli: Any, tmp_path: Path) -> None:
    result = cli("standards", "new", "--extends", "mdss@1.0", "qwo-local", "-o", tmp_path)
    assert result.code == 0, result.err
    folder = tmp_path / "qwo-local" / "0.1.0"
    assert (folder / "standard.yaml").is_file()
    lint = cli("standards", "lint", folder)
    assert lint.code == 0, lint.out
    again = cli("standards", "new", "--extends", "mdss@1.0", "qwo-local", "-o", tmp_path)
    assert again.code == 2 and "already exists" in again.err
    card = validate([FIXTURES / "feeds" / "conformant"], str(folder)).data
    reqs = {r["id"]: r for r in card["requirements"]}
    assert reqs["QWO-LOCAL-01"]["level"] == "SHOULD"
    assert "MDSS-ID-01" in reqs  # every national requirement still applies
    assert card["standard"]["id"] == "qwo-local"


def test_new_rejects_a_bad_id(tmp_path: Path) -> None:
    from conformance.errors import UsageError

    with pytest.raises(UsageError, match="is not a standard id"):
        scaffold_extension("mdss@1.0", "Bad Id", tmp_path)

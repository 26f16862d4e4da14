"""The command line end to end: exit codes, formats, messages, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import jsonschema
import orjson
import pytest

from conformance.scorecard.model import scorecard_schema
from tests.conftest import FIXTURES, REPO, CliResult, ndjson, patient

pytestmark = pytest.mark.acceptance

GOOD = FIXTURES / "feeds" / "conformant"
SAMPLE = REPO / "sample_feeds" / "qwo-conformant"
IDENTITY = FIXTURES / "standards" / "identity"
BAD = FIXTURES / "feeds" / "non-conformant"
Cli = Callable[..., CliResult]


def test_conformant_sample_feed_exits_0(cli: Cli) -> None:
    result = cli("validate", SAMPLE)
    assert result.code == 0, result.out + result.err
    assert "Verdict   Conformant" in result.out
    assert "Score     100.0 / 100" in result.out


def test_non_conformant_json_exits_1_and_validates(cli: Cli) -> None:
    result = cli("validate", BAD, "--format", "json")
    assert result.code == 1
    card = result.json()
    jsonschema.validate(card, scorecard_schema())
    assert card["verdict"] == "Not conformant"
    failed = {r["id"] for r in card["requirements"] if r["status"] in ("fail", "partial")}
    assert {"MDSS-ID-02", "MDSS-STR-01", "MDSS-STR-02"} <= failed
    assert card["counts"] == {
        **card["counts"],
        "records_read": 4,
        "records_validated": 3,
        "records_unparseable": 1,
    }


def test_environment_option_applies_without_manifest(cli: Cli) -> None:
    without = cli("validate", BAD, "--format", "json").json()
    with_env = cli("validate", BAD, "--format", "json", "--environment", "test").json()
    status = {r["id"]: r["status"] for r in with_env["requirements"]}
    assert status["MDSS-ID-03"] == "pass"
    assert next(r for r in without["requirements"] if r["id"] == "MDSS-ID-03")["status"] == "fail"


@pytest.mark.parametrize(("policy", "code"), [("never", 0), ("must", 1), ("should", 1)])
def test_fail_on_policy(cli: Cli, policy: str, code: int) -> None:
    assert cli("validate", BAD, "--fail-on", policy, "--format", "json").code == code


def test_fail_on_should_with_warnings(cli: Cli, tmp_path: Path) -> None:
    feed = tmp_path / "feed.ndjson"
    resource = patient()
    resource["address"] = [{"postalCode": "XX"}]
    feed.write_bytes(ndjson(resource))
    args = ("validate", feed, "--environment", "test", "--standard", IDENTITY)
    assert cli(*args).code == 0
    assert cli(*args, "--fail-on", "should").code == 1


def test_markdown_and_output_file(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    result = cli("validate", BAD, "--format", "markdown", "--output", out)
    assert result.code == 1
    assert result.out == ""
    assert "report written to" in result.err
    text = out.read_text()
    assert text.startswith("## ❌ Not conformant")
    assert "| partial | `MDSS-ID-02` |" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["validate", "nope.ndjson"], "nope.ndjson: no such file or folder"),
        (["validate", str(GOOD), "--format", "pdf"], "unknown format 'pdf'"),
        (["validate", str(GOOD), "--standard", "nope@9"], "unknown standard 'nope'"),
        (["validate", str(GOOD), "--format", "json", "--show-values"], "--show-values"),
        (["standards", "show", "mdss@7"], "no version of 'mdss' matches '7'"),
    ],
)
def test_user_errors_exit_2_with_one_line(cli: Cli, argv: list[str], message: str) -> None:
    result = cli(*argv)
    assert result.code == 2
    assert message in result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err


def test_bad_standard_names_file_and_line(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "std"
    folder.mkdir()
    src = FIXTURES / "standards" / "negative" / "bad-level.yaml"
    (folder / "standard.yaml").write_text(src.read_text())
    result = cli("validate", GOOD, "--standard", folder)
    assert result.code == 2
    assert f"{folder / 'standard.yaml'}:11: requirements[0] (BAD-ID-01).level" in result.err
    lint = cli("standards", "lint", folder)
    assert lint.code == 1 and "standard.yaml:11" in lint.out  # lint reports problems: exit 1


def test_unknown_check_type_names_line(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "std"
    folder.mkdir()
    text = (FIXTURES / "standards" / "positive" / "minimal.yaml").read_text()
    (folder / "standard.yaml").write_text(text.replace("nhs-number-present", "nhs-numbr"))
    result = cli("validate", GOOD, "--standard", folder)
    assert result.code == 2
    assert "standard.yaml:14: MIN-ID-01: unknown check type 'nhs-numbr'" in result.err


def test_standards_commands(cli: Cli) -> None:
    listing = cli("standards", "list")
    assert listing.code == 0 and "mdss" in listing.out and "1.0.0" in listing.out
    show = cli("standards", "show", "mdss@1")
    assert "MDSS-ID-01" in show.out and "MUST" in show.out
    assert cli("standards", "lint", "standards/mdss/1.0.0").code == 0


def test_version_and_formats(cli: Cli) -> None:
    assert cli("version").out.startswith("conformance ")
    formats = cli("formats").out
    for name in ("terminal", "json", "markdown"):
        assert name in formats


def test_python_m_and_stdin() -> None:
    """A real process: ``python -m conformance validate -`` reading NDJSON from stdin."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance",
            "validate",
            "-",
            "--format",
            "json",
            "--environment",
            "test",
            "--standard",
            str(IDENTITY),
        ],
        input=(GOOD / "Patient.ndjson").read_bytes(),
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    card = orjson.loads(proc.stdout)
    assert card["counts"]["records_read"] == 3
    assert card["inputs"][0]["file"] == "<stdin>"


def test_missing_input_in_a_real_process_has_no_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "validate", str(tmp_path / "missing")],
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith("conformance: error:")
    assert b"Traceback" not in proc.stderr


def test_published_catalogue_is_current(cli: Cli, tmp_path: Path) -> None:
    """docs/mdss-1.0.0.md is what `standards docs` writes today (regenerate it if not)."""
    out = tmp_path / "catalogue.md"
    assert cli("standards", "docs", "mdss@1.0.0", "-o", out).code == 0
    published = (REPO / "docs" / "mdss-1.0.0.md").read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == published, (
        "run: conformance standards docs mdss@1.0.0 -o docs/mdss-1.0.0.md"
    )
    for line in published.splitlines():
        if line.startswith("| [MDSS-"):
            rid = line.split("]")[0].removeprefix("| [")
            assert f"### {rid}" in published

"""The reporters: each format rendered from saved canonical scorecards, checked by parsing."""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from conformance.reporters.base import RenderOptions
from conformance.reporters.common import period_label, top_findings
from conformance.reporters.github import PER_KIND_LIMIT, GitHubReporter, escape_property
from conformance.reporters.htmlkit import STATUS_COLOUR, static_text
from conformance.reporters.junit import JUnitReporter
from conformance.reporters.operationoutcome import ISSUE_TYPES, OperationOutcomeReporter, issue_type
from conformance.reporters.sarif import SarifReporter
from conformance.reporters.tabular import CSV_COLUMNS, CodeQualityReporter, CsvReporter

DATA = Path(__file__).parent / "data"
CARDS = ("nonconformant", "qop-failing", "single")
FORMATS = ("html", "junit", "sarif", "github", "csv", "operationoutcome", "codequality")
OPTS = RenderOptions()


def card(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return data


@pytest.fixture(autouse=True)
def _no_step_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def reporter(fmt: str) -> Any:
    from conformance.plugin.manager import build_plugins
    from conformance.reporters.registry import reporter_for

    return reporter_for(build_plugins(), fmt)


# ------------------------------------------------------------------ all formats


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_registered_and_deterministic(fmt: str) -> None:
    rep = reporter(fmt)
    for name in CARDS:
        first = rep.render(card(name), OPTS)
        assert first == rep.render(card(name), OPTS)
        assert first.endswith("\n")


@pytest.mark.parametrize("fmt", FORMATS)
def test_only_the_run_key_changes_the_output(fmt: str) -> None:
    """Outputs differ between runs only where they show the run's start or duration."""
    a = card("nonconformant")
    b = copy.deepcopy(a)
    b["run"] = {"started": "2030-01-02T03:04:05Z", "duration_seconds": 9.876}
    out_a, out_b = reporter(fmt).render(a, OPTS), reporter(fmt).render(b, OPTS)
    assert out_a.count("\n") == out_b.count("\n")
    differing = [
        (x, y) for x, y in zip(out_a.splitlines(), out_b.splitlines(), strict=True) if x != y
    ]
    for _, line in differing:
        assert "2030-01-02" in line or "9.876" in line or "9.9" in line, line


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_patient_identifier_in_any_format(fmt: str) -> None:
    """The fixture feed carries NHS Numbers 9990000018/9990000019: none may appear."""
    text = reporter(fmt).render(card("nonconformant"), OPTS)
    assert "9990000018" not in text and "9990000019" not in text
    assert not re.search(r"(?<!\d)999\s?000\s?00\d\d(?!\d)", text)
    assert "999 *** ****" in text or fmt in ("junit",) or "***" in text


def test_formats_command_lists_the_new_formats(cli: Any) -> None:
    result = cli("formats")
    assert result.code == 0
    names = {line.split()[0] for line in result.out.splitlines()}
    assert set(FORMATS) <= names


# ------------------------------------------------------------------ HTML


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_colours_meet_wcag_aa() -> None:
    for status, colour in STATUS_COLOUR.items():
        assert contrast(colour, "#ffffff") >= 4.5, status  # white text on a badge
        assert contrast(colour, "#f2f4f6") >= 4.5, status  # coloured text on the page
    variables = dict(re.findall(r"--([a-z]+):(#[0-9a-f]{6})", static_text("page.css")))
    for fg in ("ink", "muted"):
        for bg in ("paper", "soft"):
            assert contrast(variables[fg], variables[bg]) >= 4.5, (fg, bg)
    assert contrast(variables["band"], "#ffffff") >= 4.5


def test_period_label() -> None:
    assert period_label("2026-11-01", "2026-11-30") == "Nov 2026"
    assert period_label("2024-02-01", "2024-02-29") == "Feb 2024"
    assert period_label("2026-11-01", "2026-11-29") == "2026-11-01 to 2026-11-29"
    assert period_label("2026-11-01", "2026-11-01") == "2026-11-01"
    assert period_label(None, None) == "no period"


def test_top_findings_interleave_requirements_and_put_errors_first() -> None:
    data = card("qop-failing")
    top = top_findings(data, 6)
    severities = [f["severity"] for f in top]
    assert severities == sorted(severities, key=["error", "warning", "information"].index)
    errors = [f["requirement"] for f in top if f["severity"] == "error"]
    assert len(set(errors[:2])) == min(
        2, len({f["requirement"] for f in data["findings"] if f["severity"] == "error"})
    )


# ------------------------------------------------------------------ JUnit


def test_junit_parses_with_one_case_per_requirement() -> None:
    data = card("qop-failing")
    root = ET.fromstring(JUnitReporter().render(data, OPTS).encode())
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == len(data["requirements"])
    not_met = [r for r in data["requirements"] if r["status"] in ("partial", "fail")]
    failures = [c for c in cases if c.find("failure") is not None]
    assert len(failures) == len(not_met) == int(suite.get("failures", "-1"))
    assert int(suite.get("skipped", "-1")) == sum(
        1 for r in data["requirements"] if r["status"] == "not-applicable"
    )
    for case, req in zip(cases, data["requirements"], strict=True):
        assert (case.get("name") or "").startswith(req["id"])
        failure = case.find("failure")
        if failure is not None:
            assert req["level"] in (failure.get("type") or "")
            if req["findings"]["error"] + req["findings"]["warning"]:
                assert "Top findings" in (failure.text or "")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["verdict"] == data["verdict"] and props["feed.ics"] == "QOP"


def test_junit_drops_characters_xml_cannot_carry() -> None:
    data = card("nonconformant")
    data["findings"][0]["message"] = "bad \x01 char"
    ET.fromstring(JUnitReporter().render(data, OPTS).encode())


# ------------------------------------------------------------------ SARIF


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    return jsonschema.Draft4Validator(schema)


@pytest.mark.parametrize("name", CARDS)
def test_sarif_validates_against_the_oasis_schema(
    name: str, sarif_validator: jsonschema.Draft4Validator
) -> None:
    doc = json.loads(SarifReporter().render(card(name), OPTS))
    errors = sorted(sarif_validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def test_sarif_rules_and_results() -> None:
    data = card("qop-failing")
    run = json.loads(SarifReporter().render(data, OPTS))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules][: len(data["requirements"])] == [
        r["id"] for r in data["requirements"]
    ]
    id02 = next(r for r in rules if r["id"] == "MDSS-ID-02")
    assert "Modulus 11" in id02["shortDescription"]["text"]
    assert "Why:" in id02["help"]["text"] and id02["defaultConfiguration"]["level"] == "error"
    with_loc = [r for r in run["results"] if "locations" in r]
    assert len(with_loc) >= len([f for f in data["findings"] if "file" in f["location"]])
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    f0 = next(f for f in data["findings"] if "line" in f["location"])
    match = next(
        r
        for r in run["results"]
        if r.get("locations")
        and r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        == f0["location"]["file"]
        and r["locations"][0]["physicalLocation"].get("region", {}).get("startLine")
        == f0["location"]["line"]
    )
    assert match["ruleId"] == f0["requirement"]
    fingerprints = [
        r["partialFingerprints"]["conformanceFinding/v1"]
        for r in run["results"]
        if "partialFingerprints" in r
    ]
    assert len(fingerprints) == len(data["findings"])


def test_sarif_entry_goes_in_properties() -> None:
    run = json.loads(SarifReporter().render(card("single"), OPTS))["runs"][0]
    assert any("entry" in r.get("properties", {}) for r in run["results"])


# ------------------------------------------------------------------ GitHub


def test_github_annotations_are_capped_and_escaped() -> None:
    data = card("qop-failing")
    data["findings"].extend(copy.deepcopy(data["findings"]) * 3)
    text = GitHubReporter().render(data, OPTS)
    commands = [line for line in text.splitlines() if line.startswith("::")]
    kinds = Counter(line[2 : line.index(" ")] for line in commands if " " in line[:12])
    assert kinds["error"] <= PER_KIND_LIMIT and kinds["warning"] <= PER_KIND_LIMIT
    assert kinds["notice"] <= PER_KIND_LIMIT
    assert kinds["error"] == PER_KIND_LIMIT  # there are more errors than that
    assert "more findings are not annotated" in commands[-1]
    first = commands[0]
    assert re.match(r"^::error file=[^,:]+,line=\d+,title=MDSS-[A-Z]+-\d+ [a-z-]+::", first)
    assert "## " in text  # the summary follows when $GITHUB_STEP_SUMMARY is not set


def test_github_property_escaping() -> None:
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    data = card("nonconformant")
    data["findings"][0]["message"] = "line one\nline two 100%"
    text = GitHubReporter().render(data, OPTS)
    assert "line one%0Aline two 100%25" in text


def test_github_writes_the_full_list_to_the_step_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    data = card("qop-failing")
    text = GitHubReporter().render(data, OPTS)
    assert "## " not in text  # only annotations on stdout
    written = summary.read_text()
    assert written.startswith("earlier step\n")  # appended, not replaced
    assert "All findings kept in the scorecard" in written
    full_list = written.split("All findings kept in the scorecard", 1)[1]
    rows = [
        line
        for line in full_list.splitlines()
        if line.startswith(("| error", "| warning", "| information"))
    ]
    assert len(rows) == len(data["findings"])


# ------------------------------------------------------------------ CSV


def test_csv_has_one_row_per_finding() -> None:
    data = card("qop-failing")
    data["findings"][0]["resource_id"] = "=HYPERLINK(1)"
    rows = list(csv.DictReader(io.StringIO(CsvReporter().render(data, OPTS))))
    assert len(rows) == len(data["findings"])
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[0]["resource_id"] == "'=HYPERLINK(1)"  # no formula injection
    for row, f in zip(rows, data["findings"], strict=True):
        assert row["requirement"] == f["requirement"] and row["code"] == f["code"]
        assert row["line"] == str(f["location"].get("line", ""))
        assert row["message"] == f["message"]


# ------------------------------------------------------------------ OperationOutcome


@pytest.mark.parametrize("name", CARDS)
def test_operationoutcome_bundle_is_valid_fhir(name: str) -> None:
    from conformance.fhir.validator import FhirValidator

    bundle = json.loads(OperationOutcomeReporter().render(card(name), OPTS))
    # the reporter's own extensions (input location) have no published definition: their
    # domain is allowed, as a receiver would with --allow-extension-domain
    validator = FhirValidator.base().allowing_extensions(False, ["https://w3id.org/mdss/"])
    issues = [i for i in validator.validate(bundle) if i.severity in ("error", "fatal")]
    assert not issues, issues[:5]


def test_operationoutcome_groups_by_input_resource() -> None:
    data = card("nonconformant")
    bundle = json.loads(OperationOutcomeReporter().render(data, OPTS))
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    places = {
        (f["location"].get("file"), f["location"].get("line"), f["location"].get("entry"))
        for f in data["findings"]
    }
    outcomes = [e["resource"] for e in bundle["entry"]]
    assert len(outcomes) == len(places)
    assert sum(len(o["issue"]) for o in outcomes) == len(data["findings"])
    for outcome in outcomes:
        assert outcome["resourceType"] == "OperationOutcome"
        ext = outcome["extension"][0]
        assert ext["url"].endswith("conformance-input-location")
        for issue in outcome["issue"]:
            assert issue["code"] in ISSUE_TYPES
            assert issue["severity"] in ("error", "warning", "information")
            assert issue["details"]["text"]
    line2 = next(
        o
        for o in outcomes
        if {"url": "line", "valuePositiveInt": 2} in o["extension"][0]["extension"]
    )
    codes = {i["details"]["coding"][0]["code"] for i in line2["issue"]}
    assert "nhs-number-check-digit" in codes
    assert any(i.get("expression") == ["Patient.identifier[0].value"] for i in line2["issue"])


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("invalid-json", "structure"),
        ("invariant", "invariant"),
        ("binding-required", "code-invalid"),
        ("nhs-number-check-digit", "value"),
        ("nhs-number-missing", "required"),
        ("nhs-number-shared", "duplicate"),
        ("reference-unresolved", "not-found"),
        ("check-error", "exception"),
        ("snomed-invalid-partition", "code-invalid"),
        ("something-new", "invalid"),
    ],
)
def test_issue_type_mapping(code: str, expected: str) -> None:
    assert issue_type(code) == expected
    assert expected in ISSUE_TYPES


# ------------------------------------------------------------------ Code Quality


def test_codequality_report() -> None:
    data = card("qop-failing")
    data["findings"].append(copy.deepcopy(data["findings"][0]))  # a duplicate
    issues = json.loads(CodeQualityReporter().render(data, OPTS))
    assert len(issues) == len(data["findings"])
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    for issue in issues:
        assert issue["type"] == "issue"
        assert issue["severity"] in ("info", "minor", "major", "critical", "blocker")
        assert issue["location"]["path"] and issue["location"]["lines"]["begin"] >= 1
        assert issue["description"] and issue["check_name"]


# ------------------------------------------------------------------ scorecard render


@pytest.mark.parametrize("fmt", ["html", "sarif", "csv", "json"])
def test_scorecard_render_cli(cli: Any, fmt: str, tmp_path: Path) -> None:
    out = tmp_path / f"out.{fmt}"
    result = cli("scorecard", "render", DATA / "qop-failing.json", "--format", fmt, "-o", out)
    assert result.code == 0, result.err
    assert out.read_bytes().decode() == reporter(fmt).render(card("qop-failing"), RenderOptions())


def test_scorecard_render_json_round_trips(cli: Any) -> None:
    result = cli("scorecard", "render", DATA / "single.json", "--format", "json")
    assert result.code == 0
    assert orjson.loads(result.out) == card("single")


def test_scorecard_render_rejects_bad_input(cli: Any, tmp_path: Path) -> None:
    missing = cli("scorecard", "render", tmp_path / "none.json", "-f", "html")
    assert missing.code == 2 and "cannot read" in missing.err
    bad = tmp_path / "bad.json"
    bad.write_text('{"verdict": "Maybe"}')
    wrong = cli("scorecard", "render", bad, "-f", "html")
    assert wrong.code == 2 and "not a scorecard" in wrong.err
    unknown = cli("scorecard", "render", DATA / "single.json", "-f", "pdf")
    assert unknown.code == 2 and "unknown format" in unknown.err


def test_validate_then_render_every_format(cli: Any, tmp_path: Path) -> None:
    """End to end: a real run's scorecard renders in every format."""
    from conformance.scorecard.model import scorecard_schema

    saved = tmp_path / "card.json"
    run = cli("validate", "tests/fixtures/feeds/non-conformant", "-f", "json", "-o", saved)
    assert run.code == 1, run.err
    jsonschema.validate(json.loads(saved.read_text()), scorecard_schema())
    for fmt in FORMATS:
        result = cli("scorecard", "render", saved, "-f", fmt)
        assert result.code == 0 and result.out, fmt

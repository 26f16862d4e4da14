"""The engine: accounting, dispatch, statuses, score, verdict, capping, schema."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from conformance.checks.base import Measure
from conformance.engine.run import validate
from conformance.limits import Limits
from conformance.scorecard.build import requirement_status
from conformance.scorecard.model import FailOn, scorecard_schema
from tests.conftest import ndjson, patient, with_nhs_number

IDENTITY = Path(__file__).parent.parent / "fixtures" / "standards" / "identity"


def req(card: dict, rid: str) -> dict:
    return next(r for r in card["requirements"] if r["id"] == rid)


def test_accounting_with_broken_lines(write_ndjson: Callable[..., Path]) -> None:
    path = write_ndjson(patient(id="a"), b"{broken", patient(id="b"), b"[]", b"")
    card = validate([path], IDENTITY).data
    assert card["counts"]["records_read"] == 4
    assert card["counts"]["records_validated"] == 2
    assert card["counts"]["records_unparseable"] == 2
    c = card["counts"]
    assert c["records_read"] == c["records_validated"] + c["records_unparseable"]
    assert card["inputs"][0]["records_read"] == 4
    parse = req(card, "IDT-STR-01")
    assert (parse["numerator"], parse["denominator"], parse["status"]) == (2, 4, "partial")
    assert parse["codes"] == {"invalid-json": 1, "not-an-object": 1}
    jsonschema.validate(card, scorecard_schema())


def test_truncated_gzip_fails_parse_requirement(tmp_path: Path) -> None:
    path = tmp_path / "Patient.ndjson.gz"
    path.write_bytes(gzip.compress(ndjson(*[patient(id=f"p{i}") for i in range(300)]))[:-300])
    card = validate([path], IDENTITY).data
    parse = req(card, "IDT-STR-01")
    assert parse["status"] == "fail"
    assert parse["codes"].get("unreadable-input") == 1
    assert card["verdict"] == "Not conformant"


def test_conformant_feed(write_ndjson: Callable[..., Path]) -> None:
    path = write_ndjson(
        *[
            with_nhs_number(n, f"p{i}")
            for i, n in enumerate(["9990000018", "9990000026", "9990000034"])
        ]
    )
    card = validate([path], IDENTITY)
    assert card.data["verdict"] == "Conformant", card.data["findings"]
    assert card.data["score"] == 100.0
    assert not card.fails(FailOn.SHOULD)


def test_must_failure_and_masking(write_ndjson: Callable[..., Path]) -> None:
    path = write_ndjson(with_nhs_number("9990000018", "a"), with_nhs_number("9990000019", "b"))
    card = validate([path], IDENTITY)
    data = card.data
    assert data["verdict"] == "Not conformant"
    r = req(data, "IDT-ID-02")
    assert (r["numerator"], r["denominator"], r["status"], r["rate"]) == (1, 2, "partial", 0.5)
    finding = next(f for f in data["findings"] if f["requirement"] == "IDT-ID-02")
    assert finding["code"] == "nhs-number-check-digit"
    assert finding["location"] == {
        "file": path.name,  # relative to the feed root, recorded once
        "line": 2,
        "expression": "Patient.identifier[0].value",
    }
    assert "999 *** ****" in finding["message"]
    assert "9990000019" not in card.to_json().decode()
    assert card.findings[-1].render_message(show_values=True).count("9990000019") == 1
    assert card.fails(FailOn.MUST) and not card.fails(FailOn.NEVER)


def test_should_failure_gives_warnings_verdict(write_ndjson: Callable[..., Path]) -> None:
    bad = with_nhs_number("9990000018")
    bad["address"] = [{"postalCode": "NOT A POSTCODE"}]
    card = validate([write_ndjson(bad)], IDENTITY)
    assert card.data["verdict"] == "Conformant with warnings"
    assert req(card.data, "IDT-ID-07")["status"] == "fail"
    assert 0 < card.score < 100
    assert card.fails(FailOn.SHOULD) and not card.fails(FailOn.MUST)


def test_not_applicable_without_records(write_ndjson: Callable[..., Path]) -> None:
    card = validate(
        [write_ndjson({"resourceType": "Basic", "id": "x", "code": {"text": "t"}})], IDENTITY
    ).data
    assert req(card, "IDT-ID-02")["status"] == "not-applicable"
    assert req(card, "IDT-STR-01")["status"] == "pass"


def test_findings_capped_counts_exact(write_ndjson: Callable[..., Path]) -> None:
    path = write_ndjson(*[patient(id=f"p{i}", gender=None) for i in range(30)])
    card = validate([path], IDENTITY, limits=Limits(findings_per_requirement=5)).data
    r = req(card, "IDT-ID-05")
    assert r["findings"]["error"] == 30
    assert sum(1 for f in card["findings"] if f["requirement"] == "IDT-ID-05") == 5


def test_duplicate_nhs_numbers(write_ndjson: Callable[..., Path]) -> None:
    path = write_ndjson(
        with_nhs_number("9990000018", "a"),
        with_nhs_number("9990000026", "b"),
        with_nhs_number("9990000018", "c"),
    )
    card = validate([path], IDENTITY).data
    r = req(card, "IDT-ID-08")
    assert (r["numerator"], r["denominator"]) == (1, 3)
    [finding] = [f for f in card["findings"] if f["requirement"] == "IDT-ID-08"]
    assert finding["location"]["line"] == 3


def test_json_is_deterministic_but_for_run(write_ndjson: Callable[..., Path]) -> None:
    path = write_ndjson(patient(id="a"), b"nope")
    first, second = validate([path], IDENTITY).data, validate([path], IDENTITY).data
    first.pop("run"), second.pop("run")
    assert first == second


@pytest.mark.parametrize(
    ("measure", "threshold", "expected"),
    [
        (Measure(0, 0), 1.0, "not-applicable"),
        (Measure(10, 10), 1.0, "pass"),
        (Measure(9, 10), 0.9, "pass"),
        (Measure(8, 10), 0.9, "partial"),
        (Measure(0, 10), 0.9, "fail"),
        (Measure(10, 10, status="fail"), 1.0, "fail"),
        (None, 1.0, "error"),
    ],
)
def test_status_rules(measure: Measure | None, threshold: float, expected: str) -> None:
    assert requirement_status(measure, threshold)[0] == expected


def test_findings_in_bundle_entries_get_the_entry_line(tmp_path: Path) -> None:
    import orjson

    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": patient(id="a")}, {"resource": patient(id="b", gender=None)}],
    }
    path = tmp_path / "bundle.json"
    data = orjson.dumps(bundle, option=orjson.OPT_INDENT_2)
    path.write_bytes(data)
    card = validate([path], IDENTITY).data
    [finding] = [f for f in card["findings"] if f["requirement"] == "IDT-ID-05"]
    assert finding["location"]["entry"] == 1
    assert data.decode().splitlines()[finding["location"]["line"] - 1].strip() == "{"
    assert finding["location"]["line"] > 10


def test_a_pinned_spec_pickles_and_opens_the_same_standard() -> None:
    """Workers and cluster nodes open their session from the spec the run pinned."""
    import pickle

    from conformance.engine.session import Session
    from conformance.engine.spec import RunSpec

    first = Session.open(RunSpec(standard="mdss@1", environment="test"))
    spec = pickle.loads(pickle.dumps(first.spec))
    assert spec.standard == first.standard.ref and spec.standard_folder is not None
    again = Session.open(spec)
    assert again.standard.ref == first.standard.ref
    assert again.feed.environment == "test"
    assert [c.requirement.id for c in again.compiled.checks] == [
        c.requirement.id for c in first.compiled.checks
    ]


def test_the_engine_has_no_import_cycles() -> None:
    """Modules of conformance/engine import each other as a tree (function-level too)."""
    import ast
    import graphlib

    folder = Path(__file__).parents[2] / "conformance" / "engine"
    stems = {path.stem for path in folder.glob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in folder.glob("*.py"):
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module is not None:
                imported.add(node.module)
                imported |= {f"{node.module}.{alias.name}" for alias in node.names}
        modules = {m for m in imported if m.startswith("conformance.engine.")}
        graph[f"conformance.engine.{path.stem}"] = {
            m for m in modules if m.removeprefix("conformance.engine.") in stems
        }
    order = list(graphlib.TopologicalSorter(graph).static_order())  # raises on a cycle
    assert "conformance.engine.run" in order

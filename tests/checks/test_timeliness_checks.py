"""MDSS-TIME-*: lastUpdated, dates after extraction, extraction lag, submission history."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conformance.checks.base import RunContext
from conformance.checks.timeliness import is_after, out_of_order, parse_instant
from tests.checks.helpers import (
    MANIFEST_FEED,
    assert_merge_exact,
    compile_check,
    condition,
    context,
    encounter,
    finish_context,
    mdss,
    observation,
    patient,
    ratio,
    run,
)


def test_time01_last_updated(tmp_path: Path) -> None:
    card = run(tmp_path, [patient(), patient("p2", meta={"source": "x"})], "MDSS-TIME-01")
    assert card["found"] == [
        ("last-updated-missing", "Patient.ndjson", 2, "Patient.meta.lastUpdated")
    ]
    assert ratio(card) == (1, 2)
    assert run(tmp_path / "g", [patient()], "MDSS-TIME-01")["req"]["status"] == "pass"


def test_time02_after_extraction(tmp_path: Path) -> None:
    late = observation("o2", effectiveDateTime="2026-12-02T09:00:00Z")
    late_offset = condition(recordedDate="2026-12-01T05:00:00+01:00")  # 04:00Z: after 03:00Z
    same_day = condition("c2", onsetDateTime="2026-12-01")  # date precision: not after
    card = run(tmp_path, [observation(), late, late_offset, same_day], "MDSS-TIME-02")
    assert sorted(card["found"]) == [
        ("date-after-extraction", "Condition.ndjson", 1, "Condition.recordedDate"),
        ("date-after-extraction", "Observation.ndjson", 2, "Observation.effectiveDateTime"),
    ]
    assert ratio(card) == (2, 4)
    assert "2026-12-02" not in str(card["findings"])  # dates are masked


def test_time02_period_order_without_manifest(tmp_path: Path) -> None:
    backwards = encounter(
        "e2", period={"start": "2026-11-24T03:57:00Z", "end": "2026-11-19T07:30:00Z"}
    )
    nested = encounter("e3")
    nested["location"][0]["period"] = {"start": "2026-11-20", "end": "2026-11-19"}
    future = observation(effectiveDateTime="2030-01-01")
    card = run(tmp_path, [encounter(), backwards, nested, future], "MDSS-TIME-02", feed=None)
    assert sorted(card["found"]) == [
        ("period-end-before-start", "Encounter.ndjson", 2, "Encounter.period"),
        ("period-end-before-start", "Encounter.ndjson", 3, "Encounter.location[0].period"),
    ]
    assert ratio(card) == (2, 4)  # without an extracted time the 2030 date is not judged


def test_time02_merge_exact() -> None:
    feed = [
        observation(effectiveDateTime="2027-01-01"),
        encounter(period={"start": "2026-11-02", "end": "2026-11-01"}),
        condition(),
    ]
    assert_merge_exact(
        compile_check("MDSS-TIME-02"), feed, context(extracted="2026-12-01T03:00:00Z")
    )


@pytest.mark.parametrize(
    ("value", "after"),
    [
        ("2026", False),
        ("2027", True),
        ("2026-12", False),
        ("2026-12-02", True),
        ("2026-12-01T03:00:00Z", False),
        ("2026-12-01T03:00:01.5Z", True),
        ("2026-12-01T03:59:00+01:00", False),
        ("2026-12-01T04:01:00+01:00", True),
        ("not a date at all", False),
    ],
)
def test_is_after_precision(value: str, after: bool) -> None:
    moment = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    assert is_after(value, "2026-12-01T03:00:00Z", moment) is after


def test_out_of_order() -> None:
    assert out_of_order("2026-11-02", "2026-11-01")
    assert not out_of_order("2026-11", "2026-11-01")
    assert not out_of_order("2026-11-01T10:00:00+01:00", "2026-11-01T09:30:00Z")
    assert parse_instant("2026-02-30") is None


def _manifest(tmp_path: Path, **feed: Any) -> dict[str, Any]:
    return {**MANIFEST_FEED, **feed}


def test_time03_within_24_hours(tmp_path: Path) -> None:
    card = run(tmp_path, [patient()], "MDSS-TIME-03")
    assert card["req"]["status"] == "pass"
    assert "3.0 h" in card["req"]["note"]


def test_time03_late(tmp_path: Path) -> None:
    card = run(
        tmp_path,
        [patient()],
        "MDSS-TIME-03",
        feed=_manifest(tmp_path, extracted="2026-12-04T03:00:00Z"),
    )
    assert card["req"]["status"] == "fail"
    # The manifest is written indented: "extracted" is on line 10.
    assert card["found"] == [("extraction-late", "manifest.json", 10, "feed.extracted")]


def test_time03_not_applicable_without_manifest(tmp_path: Path) -> None:
    card = run(tmp_path, [patient()], "MDSS-TIME-03", feed=None)
    assert card["req"]["status"] == "not-applicable"


class _History:
    def __init__(self, periods: list[Any]) -> None:
        self.periods = periods
        self.asked: list[tuple[str, str, str]] = []

    def submissions(self, ics: str, sender: str, standard_id: str) -> list[Any]:
        self.asked.append((ics, sender, standard_id))
        return self.periods


def _history_context(history: Any) -> RunContext:
    ctx = context(ics="QWO", sender="RXX", period_start="2026-11-01", period_end="2026-11-30")
    return RunContext(ctx.feed, mdss(), history=history)


def _finish(history: Any) -> tuple[Any, list[str]]:
    check = compile_check("MDSS-TIME-04")
    ctx = _history_context(history)
    found: list[str] = []
    measure = check.finish(
        check.start(ctx), finish_context(ctx), lambda p, loc, *a: found.append(p.code)
    )
    return measure, found


def test_time04_all_received() -> None:
    history = _History(
        ["2026-07", {"start": "2026-08-01"}, ("2026-09-01", "2026-09-30"), "2026-10-01"]
    )
    measure, found = _finish(history)
    assert (measure.numerator, measure.denominator, measure.status) == (5, 5, None)
    assert found == []
    assert history.asked == [("QWO", "RXX", "mdss")]


def test_time04_missing_months() -> None:
    measure, found = _finish(_History(["2026-10-01", "2026-06-01"]))
    assert (measure.numerator, measure.denominator) == (2, 5)
    assert found == ["submissions-missing"]
    assert measure.note is not None and "2026-07, 2026-08, 2026-09" in measure.note


def test_time04_not_applicable_until_the_history_reaches_back() -> None:
    """A sender's first recorded feeds cannot show five periods: not applicable, no finding."""
    for held in ([], ["2026-10-01"], ["2026-08-01", "2026-10-01"]):
        measure, found = _finish(_History(held))
        assert measure.status == "not-applicable" and found == [], held
        assert measure.note is not None and "periods this needs" in measure.note
    measure, found = _finish(_History(["2026-07-01", "2026-10-01"]))  # reaches back: judged
    assert (measure.numerator, measure.denominator, found) == (3, 5, ["submissions-missing"])


def test_time04_not_applicable_without_history(tmp_path: Path) -> None:
    measure, found = _finish(None)
    assert measure.status == "not-applicable" and found == []
    card = run(tmp_path, [patient()], "MDSS-TIME-04")
    assert card["req"]["status"] == "not-applicable"

"""MDSS-REF-01 keeps compact state: exact counts, a bounded number of remembered places."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from conformance.checks import references
from conformance.engine.run import validate
from conformance.limits import Limits
from tests.checks.helpers import subset_standard


def test_counts_stay_exact_beyond_the_remembered_examples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(references, "EXAMPLE_LIMIT", 3)
    lines = [
        # Waits for Patient/p0, which turns up later: its example is dropped, room freed.
        {"resourceType": "Observation", "id": "o0", "subject": {"reference": "Patient/p0"}},
        {"resourceType": "Patient", "id": "p0"},
    ] + [
        {"resourceType": "Observation", "id": f"o{i}", "subject": {"reference": f"Patient/x{i}"}}
        for i in range(1, 8)
    ]
    feed = tmp_path / "feed.ndjson"
    feed.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in lines))
    card = validate(
        [feed],
        subset_standard(tmp_path / "std", ["MDSS-REF-01"]),
        limits=Limits(findings_per_requirement=100),
        jobs=1,
    ).data
    [req] = card["requirements"]
    assert (req["numerator"], req["denominator"]) == (1, 8)
    assert req["findings"]["error"] == 7
    placed = [f["location"].get("line") for f in card["findings"] if f["location"]]
    assert placed == [3, 4, 5]  # the first three dangling ones, in file order
    assert len(card["findings"]) == 7


def test_target_keys_are_stable_and_compact() -> None:
    key = references.target_key("Patient/123")
    assert key == references.target_key("Patient/123") and len(key) == 8
    assert key != references.target_key("Patient/124")

"""The distributed engine API gives a local run's scorecard (no Spark needed)."""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conformance.engine.distributed import finish, make_spec, validate_file, validate_records
from conformance.engine.run import validate
from conformance.limits import Limits
from conformance.readers.discovery import find_inputs
from conformance.samples import generate_feed

DEFECTS = {"MDSS-ID-02": 0.05, "MDSS-ID-08": 0.05, "MDSS-STR-01": 0.02, "MDSS-ID-05": 0.05}


def _without_run(card: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in card.items() if k != "run"}


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("feed") / "feed"
    generate_feed(root, patients=40, seed=11, defects=DEFECTS)
    return root


def _numbered(path: Path) -> list[tuple[int, bytes]]:
    lines = path.read_bytes().split(b"\n")
    return [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]


def test_whole_file_shares_equal_a_local_run(feed: Path) -> None:
    local = validate([feed], jobs=1).data
    found = find_inputs([str(feed)], Limits())
    spec = pickle.loads(pickle.dumps(make_spec(found.feed)))
    shares = [
        pickle.loads(pickle.dumps(validate_file(spec, i.path, i.name, i.relative)))
        for i in found.items
        if i.path is not None
    ]
    card = finish(spec, shares, source_issues=found.issues).data
    assert _without_run(card) == _without_run(local)
    assert local["counts"]["records_unparseable"] > 0  # the defects are there to be found


@pytest.mark.parametrize("field", ["version", "build"])
def test_a_worker_refuses_a_driver_of_another_version_or_build(feed: Path, field: str) -> None:
    found = find_inputs([str(feed)], Limits())
    spec = replace(make_spec(found.feed), **{field: "other"})
    item = found.items[0]
    assert item.path is not None
    with pytest.raises(RuntimeError, match=r"driver runs .*other.*same (version|wheel)"):
        validate_file(spec, item.path, item.name, item.relative)


def test_records_in_parts_with_digests_equal_a_local_run(feed: Path) -> None:
    local = validate([feed], jobs=1).data
    found = find_inputs([str(feed)], Limits())
    spec = make_spec(found.feed)
    shares = []
    digests = {}
    for item in found.items:
        assert item.path is not None
        if not item.name.endswith(".ndjson"):
            shares.append(validate_file(spec, item.path, item.name, item.relative))
            continue
        lines = _numbered(item.path)
        cut = len(lines) // 3
        for part in (lines[:cut], lines[cut:]):
            shares.append(validate_records(spec, item.name, iter(part), relative=item.relative))
        digests[item.name] = hashlib.sha256(item.path.read_bytes()).hexdigest()
    card = finish(spec, shares, source_issues=found.issues, digests=digests).data
    assert _without_run(card) == _without_run(local)


def test_record_lines_keep_their_numbers() -> None:
    spec = make_spec()
    patient = b'{"resourceType": "Patient", "id": "p1"}'
    lines = [
        (3, patient),
        (7, b"{not json"),
        (8, b'{"resourceType":\n "Nonsense"}'),  # a newline inside a value is whitespace
        (12, b'{"resourceType": "Patient", "name": "a\nb"}'),  # ... and invalid in a string
        (20, b"null"),
    ]
    card = finish(spec, [validate_records(spec, "table", lines)]).data
    assert card["counts"]["records_read"] == 5
    assert card["counts"]["records_unparseable"] == 4
    located = {
        (f["code"], f["location"].get("line"))
        for f in card["findings"]
        if f["location"].get("file") == "table"
    }
    assert ("invalid-json", 7) in located
    assert ("unknown-resource-type", 8) in located
    assert ("invalid-json", 12) in located
    assert ("not-an-object", 20) in located


def test_line_numbers_must_increase() -> None:
    spec = make_spec()
    with pytest.raises(ValueError, match="increase"):
        validate_records(spec, "t", [(5, b"{}"), (4, b"{}")])


def test_an_empty_part_is_an_empty_share() -> None:
    spec = make_spec()
    share = validate_records(spec, "t", [])
    assert share.read == 0 and share.summaries == []

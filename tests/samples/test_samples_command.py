"""``conformance samples generate``: a synthetic feed to try the tool on, end to end."""

from __future__ import annotations

import filecmp
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

pytestmark = pytest.mark.acceptance


def test_a_generated_feed_validates_clean(cli: Callable[..., Any], tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    made = cli("samples", "generate", feed, "--patients", "15", "--seed", "5")
    assert made.code == 0, made.err
    assert made.out.startswith(f"wrote {feed}: ") and "0 defects injected" in made.out
    assert (feed / "manifest.json").is_file() and (feed / "Patient.ndjson").is_file()
    card = cli("validate", feed, "--format", "json", "--no-progress")
    assert card.code == 0, card.err
    assert card.json()["verdict"] == "Conformant"
    assert card.json()["counts"]["findings"] == 0


def test_injected_defects_are_found_where_the_expected_list_says(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    feed, expected = tmp_path / "feed", tmp_path / "expected.json"
    made = cli(
        "samples", "generate", feed, "--patients", "40", "--seed", "9",
        "--defect", "MDSS-ID-02=0.25", "--defect", "MDSS-TIME-01=0.1",
        "--expected", expected,
    )  # fmt: skip
    assert made.code == 0, made.err
    injected = orjson.loads(expected.read_bytes())
    by_req = {
        r: [d for d in injected if d["requirement"] == r] for r in ("MDSS-ID-02", "MDSS-TIME-01")
    }
    assert by_req["MDSS-ID-02"] and by_req["MDSS-TIME-01"]
    assert f"{len(injected)} defects injected" in made.out
    card = cli("validate", feed, "--format", "json", "--no-progress").json()
    assert card["verdict"] == "Not conformant"
    reqs = {r["id"]: r for r in card["requirements"]}
    for req, defects in by_req.items():
        assert sum(reqs[req]["findings"].values()) == len(defects), req
    found = {
        (f["location"]["file"].rsplit("/", 1)[-1], f["location"].get("line"))
        for f in card["findings"]
        if f["requirement"] == "MDSS-ID-02"
    }
    assert found == {(d["file"], d["line"]) for d in by_req["MDSS-ID-02"]}


def test_the_same_seed_gives_the_same_bytes(cli: Callable[..., Any], tmp_path: Path) -> None:
    for name in ("a", "b"):
        args = ("--patients", "8", "--seed", "3", "--all-defects", "0.2", "--gzip")
        assert cli("samples", "generate", tmp_path / name, *args).code == 0
    same = filecmp.dircmp(tmp_path / "a", tmp_path / "b")
    assert same.left_list and not same.diff_files and not same.left_only


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--defect", "MDSS-NOPE-01=0.1"), "unknown requirement id 'MDSS-NOPE-01'"),
        (("--defect", "MDSS-TIME-04=0.1"), "MDSS-TIME-04 cannot be injected"),
        (("--defect", "MDSS-ID-02=1.5"), "must be between 0 and 1"),
        (("--patients", "-1"), "--patients must be 0 or more"),
        (("--no-manifest", "--defect", "MDSS-PROV-01=1"), "needs the manifest"),
    ],
)
def test_bad_requests_are_one_line_errors(
    cli: Callable[..., Any], tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    done = cli("samples", "generate", tmp_path / "feed", *args)
    assert done.code == 2
    assert message in done.err and done.err.count("\n") == 1


def test_an_existing_feed_is_not_overwritten_by_accident(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    feed = tmp_path / "feed"
    assert cli("samples", "generate", feed, "--patients", "2").code == 0
    again = cli("samples", "generate", feed, "--patients", "2")
    assert again.code == 2 and "--overwrite" in again.err
    assert cli("samples", "generate", feed, "--patients", "2", "--overwrite").code == 0
    inside = cli("samples", "generate", tmp_path / "f2", "--expected", tmp_path / "f2" / "x.json")
    assert inside.code == 2 and "outside the feed folder" in inside.err


def test_defects_lists_what_can_be_injected(cli: Callable[..., Any]) -> None:
    done = cli("samples", "defects")
    assert done.code == 0
    lines = done.out.splitlines()
    assert "MDSS-ID-02" in lines
    assert any(line.startswith("MDSS-TIME-04  (not injectable") for line in lines)

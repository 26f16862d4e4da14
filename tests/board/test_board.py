"""The board pack: aggregation over ICSs and periods, and its HTML/CSV/JSON renderings."""

from __future__ import annotations

import copy
import csv
import io
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from conformance.board import build_board, render
from conformance.history import HistoryStore

CARD = Path(__file__).parent.parent / "reporters" / "data" / "nonconformant.json"
BASE: dict[str, Any] = json.loads(CARD.read_text())
REQ_IDS = [r["id"] for r in BASE["requirements"]]


def make_card(
    ics: str,
    month: int,
    score: float,
    failing: tuple[str, ...] = (),
    version: str = "1.0.0",
    started: str = "2026-12-01T00:00:00Z",
    sender: str = "RXX",
) -> dict[str, Any]:
    card = copy.deepcopy(BASE)
    card["feed"] = {
        "id": f"{ics}-{month}",
        "ics": ics,
        "sender": sender,
        "period": {"start": f"2026-{month:02d}-01", "end": f"2026-{month:02d}-28"},
    }
    card["score"] = score
    card["standard"]["version"] = version
    card["run"] = {"started": started, "duration_seconds": 1.0}
    must_failed = 0
    for req in card["requirements"]:
        if req["id"] in failing:
            req["status"], req["rate"] = "partial", 0.5
            must_failed += req["level"] == "MUST"
        else:
            req["status"], req["rate"] = "pass", 1.0
    card["verdict"] = "Not conformant" if must_failed else "Conformant"
    return card


ID02, ID03 = "MDSS-ID-02", "MDSS-ID-03"


@pytest.fixture
def cards() -> list[dict[str, Any]]:
    return [
        make_card("QWO", 9, 90.0, (ID02, ID03)),
        make_card("QWO", 10, 95.0, (ID02,)),
        make_card("QWO", 11, 100.0),
        make_card("QOP", 9, 80.0, (ID02,)),
        make_card("QOP", 10, 85.0, (ID02,)),
        make_card("QOP", 11, 70.0, (ID02, ID03), version="1.1.0"),
        # a re-validation of the same period under an older version: the newer one counts
        make_card("QOP", 11, 99.0, (), version="1.0.0", started="2026-12-05T00:00:00Z"),
        make_card("QR1", 10, 60.0, (ID03,)),  # did not submit for November
    ]


def test_league_table(cards: list[dict[str, Any]]) -> None:
    board = build_board(cards)
    assert board["scorecards"] == 7 and board["units"] == 3
    assert [p["label"] for p in board["periods"]] == [
        "2026-09-01 to 2026-09-28",
        "2026-10-01 to 2026-10-28",
        "2026-11-01 to 2026-11-28",
    ]
    league = board["league"]
    assert [(r["rank"], r["ics"]) for r in league] == [(1, "QWO"), (2, "QOP"), (3, "QR1")]
    qwo, qop, qr1 = league
    assert qwo["verdict"] == "Conformant" and qwo["change"] == 5.0
    assert qwo["trend"] == [90.0, 95.0, 100.0]
    assert qop["standard"] == "mdss@1.1.0" and qop["score"] == 70.0
    assert qop["change"] == -15.0 and qop["must_not_met"] == 2
    assert qr1["current"] is False and qr1["change"] is None
    assert qr1["trend"] == [None, 60.0, None]


def test_national_rates_movers_heatmap_adoption(cards: list[dict[str, Any]]) -> None:
    board = build_board(cards)
    reqs = {r["id"]: r for r in board["requirements"]}
    # November: QWO passes ID-02, QOP does not -> 50 %; October: QWO, QOP fail, QR1 passes.
    assert reqs[ID02]["pass_rate"] == 0.5 and reqs[ID02]["units_applicable"] == 2
    assert reqs[ID02]["previous_pass_rate"] == round(1 / 3, 4)
    assert reqs[ID03]["pass_rate"] == 0.5 and reqs[ID03]["previous_pass_rate"] == round(2 / 3, 4)
    movers = board["movers"]
    assert {m["id"] for m in movers} == {ID02, ID03}
    assert movers[0]["id"] == ID02  # +16.7 and -16.7 pts tie: then mean rate, then id
    assert all(abs(m["pass_rate_change"]) > 0 for m in movers)
    heat = board["heatmap"]
    assert heat["requirements"] == REQ_IDS
    rows = {r["ics"]: r["cells"] for r in heat["rows"]}
    assert rows["QOP"][REQ_IDS.index(ID02)] == "partial"
    assert rows["QWO"][REQ_IDS.index(ID02)] == "pass"
    adoption = {a["standard"]: a for a in board["adoption"]}
    assert adoption["mdss@1.0.0"]["by_period"] == [2, 3, 1]
    assert adoption["mdss@1.1.0"]["by_period"] == [0, 0, 1]
    assert adoption["mdss@1.1.0"]["units_current"] == 1


def test_board_is_independent_of_input_order(cards: list[dict[str, Any]]) -> None:
    expected = render(build_board(cards), "json")
    shuffled = list(cards)
    random.Random(7).shuffle(shuffled)
    assert render(build_board(shuffled), "json") == expected
    for fmt in ("html", "csv"):
        assert render(build_board(shuffled), fmt) == render(build_board(cards), fmt)


def test_single_period_board() -> None:
    board = build_board([make_card("QWO", 11, 100.0)])
    assert board["previous_period"] is None and board["movers"] == []
    assert "nothing to compare with" in render(board, "html")


def test_csv_and_json(cards: list[dict[str, Any]]) -> None:
    board = build_board(cards)
    rows = list(csv.DictReader(io.StringIO(render(board, "csv"))))
    assert [r["ics"] for r in rows] == ["QWO", "QOP", "QR1"]
    assert rows[1]["change"] == "-15.0" and rows[1]["standard"] == "mdss@1.1.0"
    assert rows[2]["previous_score"] == ""
    data = json.loads(render(board, "json"))
    assert data["league"] == board["league"]


def test_html(cards: list[dict[str, Any]]) -> None:
    text = render(build_board(cards), "html")
    assert "<script" not in text and "default-src 'none'" in text
    for heading in (
        "League table",
        "Biggest movers since the previous period",
        "Requirements by ICS",
        "National pass rate by requirement",
        "Standard version adoption",
    ):
        assert f">{heading}</h2>" in text
    assert text.count("<polyline") == 2  # QWO and QOP have more than one period
    assert "down 15.0" in text and "up 5.0" in text
    assert "(no newer submission)" in text
    assert re.search(r'class="h-partial" title="MDSS-ID-02: Partial"', text)
    assert '<span class="sr-only">Partial</span>' in text  # not colour alone


def test_board_cli_from_files_and_history(cli: Any, tmp_path: Path) -> None:
    paths = []
    for n, card in enumerate([make_card("QWO", m, 80.0 + m) for m in (9, 10, 11)]):
        path = tmp_path / f"c{n}.json"
        path.write_text(json.dumps(card))
        paths.append(path)
    out = tmp_path / "board.html"
    result = cli("board", *paths, "-o", out)
    assert result.code == 0, result.err
    assert "League table" in out.read_text()
    db = tmp_path / "h.sqlite3"
    with HistoryStore(db) as store:
        for m in (9, 10):
            store.record(make_card("QOP", m, 80.0))
    as_json = cli("board", paths[2], "--db", db, "--format", "json")
    assert as_json.code == 0, as_json.err
    assert {r["ics"] for r in as_json.json()["league"]} == {"QWO", "QOP"}
    as_csv = cli("board", "--db", db, "-f", "csv")
    assert as_csv.out.splitlines()[0].startswith("rank,ics,sender")
    assert cli("board").code == 2
    assert cli("board", "--db", tmp_path / "missing.sqlite3").code == 2

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
from urllib.parse import unquote

import pytest

from conformance.board import build_board, render, scorecards_folder, write_html_pack
from conformance.history import HistoryStore
from tests.reporters.htmlcheck import parse

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
    card["scorecard_version"] = "1.1.0"  # the score is taken as given (1.0.0 is rescored)
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
    csp = parse(text).find("meta", **{"http-equiv": "Content-Security-Policy"}).attrs["content"]
    assert (
        "<script" not in text
        and csp == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    )
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


def save_cards(folder: Path, cards: list[dict[str, Any]]) -> list[Path]:
    paths = []
    for n, card in enumerate(cards):
        path = folder / f"c{n}.json"
        path.write_text(json.dumps(card))
        paths.append(path)
    return paths


def test_board_cli_from_files_and_history(cli: Any, tmp_path: Path) -> None:
    paths = save_cards(tmp_path, [make_card("QWO", m, 80.0 + m) for m in (9, 10, 11)])
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


# ------------------------------------------------------------------ HTML: labels and links


def test_html_is_well_formed_and_escaped(cards: list[dict[str, Any]]) -> None:
    hostile = '<script>alert("x")</script>'
    cards[0]["feed"]["ics"] = hostile
    cards[0]["feed"]["sender"] = hostile
    cards[1]["requirements"][0]["title"] = hostile
    text = render(build_board(cards), "html")
    parse(text)
    assert "<script" not in text and "&lt;script&gt;" in text


def test_heatmap_tells_must_from_should_and_may(cards: list[dict[str, Any]]) -> None:
    board = build_board(cards)
    heat = parse(render(board, "html")).find("table", cls="heat")
    level = {r["id"]: r["level"] for r in board["requirements"]}
    groups = heat.find_all("th", cls="group")
    assert [g.text() for g in groups] == ["MUST", "SHOULD", "MAY"]
    for g in groups:
        assert int(str(g.attrs["colspan"])) == sum(1 for v in level.values() if v == g.text())
    columns = [th.text() for th in heat.find_all("th", cls="id")]
    assert sorted(columns) == sorted(level)
    ranks = [("MUST", "SHOULD", "MAY").index(level[c]) for c in columns]
    assert ranks == sorted(ranks)
    for th in heat.find_all("th", cls="id"):
        assert str(th.attrs["title"]).startswith(f"{level[th.text()]} {th.text()}:")
    # each row's cells follow the same columns: ID-02 is partial for QOP
    qop = next(
        tr for tr in heat.find("tbody").find_all("tr") if tr.find("th").text() == "QOP / RXX"
    )
    cells = [td for td in qop.find_all("td") if "gap" not in td.classes()]
    assert cells[columns.index(ID02)].attrs["title"] == f"{ID02}: Partial"


def test_movers_and_sparklines_carry_unit_and_scale(cards: list[dict[str, Any]]) -> None:
    board = build_board(cards)
    page = parse(render(board, "html"))
    movers = page.find("section", **{"aria-labelledby": "h-movers"})
    text = movers.text()
    assert "share of ICSs meeting" in text and "percentage points (pp)" in text
    # the biggest change is 16.7 pp: the bars' common scale is the next round number, 20 pp
    assert "from \u221220 pp (left) to +20 pp (right)" in text
    rows = movers.find("tbody").find_all("tr")
    assert len(rows) == len(board["movers"])
    for tr, m in zip(rows, board["movers"], strict=True):
        change = tr.find("td", **{"data-label": "Change in share"}).text()
        assert (
            f"{abs(m['pass_rate_change']) * 100:.0f} pp" in change and "\u221220 pp+20 pp" in change
        )
    league = page.find("table", cls="league")
    for tr, row in zip(league.find("tbody").find_all("tr"), board["league"], strict=True):
        trend = [v for v in row["trend"] if v is not None]
        labels = [t.text() for t in tr.find_all("text")]
        expected = [f"{max(trend):.1f}"] + (
            [f"{min(trend):.1f}"] if min(trend) != max(trend) else []
        )
        assert labels == expected, row["ics"]
    assert (
        "highest and lowest score" in page.find("section", **{"aria-labelledby": "h-league"}).text()
    )


def test_pack_links_each_ics_to_its_scorecard(cards: list[dict[str, Any]], tmp_path: Path) -> None:
    board_file = tmp_path / "shared drive" / "board Nov.html"
    board_file.parent.mkdir()
    written = write_html_pack(cards, board_file)
    board = build_board(cards)
    assert written[0] == board_file and len(written) == 1 + board["units"]
    page = parse(board_file.read_text(encoding="utf-8"))
    rows = page.find("table", cls="league").find("tbody").find_all("tr")
    for tr, row in zip(rows, board["league"], strict=True):
        href = str(tr.find("th").find("a").attrs["href"])
        target = board_file.parent / unquote(href)
        assert target.is_file() and target.parent == scorecards_folder(board_file), href
        linked = parse(target.read_text(encoding="utf-8"))
        assert f"{row['ics']} / {row['sender']}" in linked.find("h1").text()
        assert (
            row["period"]["start"] in linked.find("section", **{"aria-labelledby": "h-feed"}).text()
        )
        assert f"{row['score']:.1f}" in linked.find("header").text()
        back = str(linked.find("header").find("a").attrs["href"])
        assert (target.parent / unquote(back)).resolve() == board_file.resolve()
    heat_links = [a.attrs["href"] for a in page.find("table", cls="heat").find_all("a")]
    assert heat_links == [tr.find("th").find("a").attrs["href"] for tr in rows]
    # QOP's November has two scorecards: the one the league table shows (1.1.0) is linked
    qop = next(p for p in written if p.name.startswith("QOP-"))
    assert "MDSS 1.1.0" in qop.read_text(encoding="utf-8")


def test_pack_file_names_are_safe_and_unique(tmp_path: Path) -> None:
    hostile = [
        make_card("../../etc/<passwd>", 11, 90.0, sender=""),
        make_card("..", 11, 80.0, sender="a/b"),
        make_card("QWO", 11, 70.0, sender="R X"),
        make_card("QWO", 11, 60.0, sender="R?X"),
    ]
    written = write_html_pack(hostile, tmp_path / "board.html")
    folder = scorecards_folder(tmp_path / "board.html")
    pages = written[1:]
    assert len(pages) == 4 and len({p.name for p in pages}) == 4
    for p in pages:
        assert p.parent == folder and p.is_file()
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*\.html", p.name), p.name
    assert sorted(folder.iterdir()) == sorted(pages)


def test_board_cli_writes_linked_scorecards(cli: Any, tmp_path: Path) -> None:
    paths = save_cards(tmp_path, [make_card("QWO", 10, 90.0), make_card("QOP", 11, 80.0)])
    out = tmp_path / "board.html"
    result = cli("board", *paths, "-o", out)
    assert result.code == 0, result.err
    assert "board-scorecards" in result.err
    assert sorted(p.name for p in (tmp_path / "board-scorecards").iterdir()) == [
        "QOP-RXX-2026-11-01_2026-11-28.html",
        "QWO-RXX-2026-10-01_2026-10-28.html",
    ]
    assert 'href="board-scorecards/QOP-RXX-2026-11-01_2026-11-28.html"' in out.read_text()
    to_stdout = cli("board", *paths)
    assert to_stdout.code == 0 and "The scorecards are not linked" in to_stdout.out
    assert "board-scorecards/" not in to_stdout.out


def test_pack_pages_carry_no_patient_identifier(tmp_path: Path) -> None:
    """The fixture feed's NHS Numbers are 9990000018/9990000019: masked in every page."""
    written = write_html_pack([make_card("QWO", 11, 90.0, (ID02,))], tmp_path / "board.html")
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?<!\d)999\s?000\s?00\d\d(?!\d)", text), path
    assert "999 *** ****" in written[1].read_text(encoding="utf-8")

"""The HTML scorecard and the board pack in headless Chromium: no console errors, the key
elements present, no sideways overflow on a 400 px phone, and a sane A4 print.

Screenshots (desktop, phone, print) go to a temporary folder (path printed) and are
copied to /tmp/conformance-screenshots/ for a person to look at.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from conformance.board import build_board, render
from conformance.reporters.base import RenderOptions
from conformance.reporters.html import HtmlReporter
from tests.browser.shots import save_screenshot

DATA = Path(__file__).parent.parent / "reporters" / "data"
PHONE, DESKTOP, A4_CSS_PX = 400, 1100, 794


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return data


def board_cards() -> list[dict[str, Any]]:
    """Three ICSs over three monthly periods, made from the saved sample scorecards."""
    cards = []
    for n, (name, ics) in enumerate(
        (("qop-failing", "QOP"), ("nonconformant", "QWO"), ("single", "QR1"))
    ):
        for month, end in ((9, 30), (10, 31), (11, 30)):
            card = copy.deepcopy(load(name))
            card["feed"] = {
                "id": f"{ics.lower()}-{month}",
                "ics": ics,
                "sender": f"R{n}X",
                "period": {"start": f"2026-{month:02d}-01", "end": f"2026-{month:02d}-{end}"},
            }
            card["score"] = max(0.0, min(100.0, card["score"] - (11 - month) * (2 + n)))
            # earlier periods were worse: some requirements met now were not met then
            passing = [r for r in card["requirements"] if r["status"] == "pass"]
            for req in passing[n : n + (11 - month) * 2]:
                req["status"], req["rate"] = "partial", 0.9
            cards.append(card)
    return cards


def console_errors(driver: Any) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def open_page(driver: Any, path: Path, width: int) -> None:
    driver.set_window_size(width, 900)
    driver.get(path.as_uri())


def no_sideways_overflow(driver: Any) -> None:
    width = driver.execute_script("return document.documentElement.scrollWidth")
    inner = driver.execute_script("return window.innerWidth")
    assert width <= inner, f"page is {width}px wide in a {inner}px viewport"


def print_checks(driver: Any, folder: Path, name: str) -> int:
    """Screenshot with print styles, and print to A4 PDF; returns the page count."""
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        save_screenshot(driver, folder, f"{name}-print", A4_CSS_PX)
        no_sideways_overflow(driver)
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    pdf = driver.execute_cdp_cmd(
        "Page.printToPDF",
        {"paperWidth": 8.27, "paperHeight": 11.69, "preferCSSPageSize": True},
    )
    data = base64.b64decode(pdf["data"])
    (folder / f"{name}.pdf").write_bytes(data)
    assert data.startswith(b"%PDF")
    return len(re.findall(rb"/Type\s*/Page[^s]", data))


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("screenshots")
    print(f"screenshots in {folder}")
    return folder


def test_html_scorecard_in_chromium(browser: Any, shots: Path) -> None:
    card = load("qop-failing")
    page = shots / "scorecard.html"
    page.write_text(HtmlReporter().render(card, RenderOptions()), encoding="utf-8")
    find = browser.find_elements
    for width, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
        open_page(browser, page, width)
        assert console_errors(browser) == []
        assert "QOP / RZX" in browser.find_element("css selector", "h1").text
        badge = browser.find_element("css selector", "#h-summary ~ .hero .badge")
        assert "Not conformant" in badge.text
        rows = find("css selector", "table.reqs tbody tr")
        assert len(rows) == len(card["requirements"])
        assert len(find("css selector", "#h-findings ~ table tbody tr")) == min(
            20, len(card["findings"])
        )
        assert find("css selector", "svg[role=img]")  # the score gauge
        assert browser.find_element("css selector", "#h-feed").is_displayed()
        no_sideways_overflow(browser)
        save_screenshot(browser, shots, f"scorecard-{label}", width)
    pages = print_checks(browser, shots, "scorecard")
    assert 1 <= pages <= 10, pages


def test_board_pack_in_chromium(browser: Any, shots: Path) -> None:
    board = build_board(board_cards())
    page = shots / "board.html"
    page.write_text(render(board, "html"), encoding="utf-8")
    find = browser.find_elements
    for width, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
        open_page(browser, page, width)
        assert console_errors(browser) == []
        assert "board pack" in browser.find_element("css selector", "h1").text
        league = find("css selector", "table.league tbody tr")
        assert len(league) == 3
        assert len(find("css selector", "table.league polyline")) == 3  # trend sparklines
        heat_rows = find("css selector", "table.heat tbody tr")
        assert len(heat_rows) == 3
        cells = heat_rows[0].find_elements("css selector", "td")
        assert len(cells) == len(board["heatmap"]["requirements"])
        assert browser.find_element("css selector", "#h-movers").is_displayed()
        assert browser.find_element("css selector", "#h-adopt").is_displayed()
        no_sideways_overflow(browser)  # the heatmap scrolls inside its own box
        save_screenshot(browser, shots, f"board-{label}", width)
    pages = print_checks(browser, shots, "board")
    assert 1 <= pages <= 6, pages

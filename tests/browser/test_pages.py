"""The HTML scorecard and the board pack in headless Chromium: no console errors, the
drill-down opens, the filter filters, the board links open the scorecards, no sideways
overflow on a 400 px phone, a sane A4 print, and a page that still works without scripts.

Screenshots (desktop, phone, print) go to a temporary folder (path printed) and are
copied to /tmp/conformance-screenshots/ for a person to look at; ``python -m
tests.browser.shots`` writes the full review set.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest

from conformance.board import build_board, write_html_pack
from conformance.reporters.html import render_scorecard
from tests.browser.shots import board_cards, load, open_page, save_screenshot, use_filter

PHONE, DESKTOP, A4_CSS_PX = 400, 1280, 794
CSS = "css selector"


def console_errors(driver: Any) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def no_sideways_overflow(driver: Any) -> None:
    width = driver.execute_script("return document.documentElement.scrollWidth")
    inner = driver.execute_script("return window.innerWidth")
    assert width <= inner, f"page is {width}px wide in a {inner}px viewport"


def visible(driver: Any, selector: str) -> list[Any]:
    return [e for e in driver.find_elements(CSS, selector) if e.is_displayed()]


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
    page.write_text(render_scorecard(card), encoding="utf-8")
    for width, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
        open_page(browser, page, width)
        assert console_errors(browser) == []
        assert "QOP / RZX" in browser.find_element(CSS, "h1").text
        badge = browser.find_element(CSS, "#h-summary ~ .hero .badge")
        assert "Not conformant" in badge.text
        assert len(visible(browser, "details.req")) == len(card["requirements"])
        assert visible(browser, "tr.finding") == []  # closed until asked for
        assert browser.find_element(CSS, "#h-score").is_displayed()
        assert browser.find_element(CSS, "#h-feed").is_displayed()
        no_sideways_overflow(browser)
        save_screenshot(browser, shots, f"scorecard-{label}", width)
    pages = print_checks(browser, shots, "scorecard")
    assert 1 <= pages <= 12, pages


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_drilldown_and_filter(browser: Any, shots: Path, width: int) -> None:
    card = load("qop-failing")
    page = shots / "scorecard.html"
    page.write_text(render_scorecard(card), encoding="utf-8")
    open_page(browser, page, width)
    # open one requirement: its findings, grouped by code, with "showing N of M"
    org05 = browser.find_element(CSS, "#req-MDSS-ORG-05")
    org05.find_element(CSS, "summary").click()
    assert org05.get_attribute("open") is not None
    rows = visible(browser, "#req-MDSS-ORG-05 tr.finding")
    kept = [f for f in card["findings"] if f["requirement"] == "MDSS-ORG-05"]
    assert len(rows) == len(kept)
    headings = [h.text for h in visible(browser, "#req-MDSS-ORG-05 .code-group h4")]
    assert headings[0].startswith("gp-missing") and "showing" in headings[0]
    no_sideways_overflow(browser)
    # the filter: text narrows to the requirements and findings that match, and opens them
    use_filter(browser, "reference-unresolved")
    shown = visible(browser, "details.req")
    assert [d.get_attribute("id") for d in shown] == ["req-MDSS-REF-01"]
    assert len(visible(browser, "tr.finding")) == sum(
        1 for f in card["findings"] if f["code"] == "reference-unresolved"
    )
    count = browser.find_element(CSS, "#filter .count").text
    assert count.startswith("Showing 1 of 38 requirements"), count
    # severity alone: only warnings remain, across every requirement that has some
    use_filter(browser, "", "warning")
    severities = {r.get_attribute("data-severity") for r in visible(browser, "tr.finding")}
    assert severities == {"warning"}
    warned = {f["requirement"] for f in card["findings"] if f["severity"] == "warning"}
    assert {d.get_attribute("id")[4:] for d in visible(browser, "details.req")} == warned
    no_sideways_overflow(browser)
    save_screenshot(browser, shots, f"scorecard-filtered-{width}", width)
    # level, and clearing everything restores the page (auto-opened requirements close)
    use_filter(browser, "", "")
    browser.find_element(CSS, "#filter select[name=level] option[value=MAY]").click()
    assert {d.get_attribute("data-level") for d in visible(browser, "details.req")} == {"MAY"}
    browser.find_element(CSS, "#filter select[name=level] option[value='']").click()
    assert len(visible(browser, "details.req")) == len(card["requirements"])
    assert visible(browser, "#req-MDSS-REF-01 tr.finding") == []
    # a link to a code opens its requirement
    browser.find_element(
        CSS, "table.codes a[href='#code-MDSS-TIME-01-last-updated-missing']"
    ).click()
    assert browser.find_element(CSS, "#req-MDSS-TIME-01").get_attribute("open") is not None
    assert console_errors(browser) == []


def test_scorecard_without_scripts(browser: Any, shots: Path) -> None:
    page = shots / "scorecard.html"
    page.write_text(render_scorecard(load("qop-failing")), encoding="utf-8")
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        open_page(browser, page, PHONE)
        assert not browser.find_element(CSS, "#filter").is_displayed()
        req = browser.find_element(CSS, "#req-MDSS-TIME-01")
        req.find_element(CSS, "summary").click()
        assert len(visible(browser, "#req-MDSS-TIME-01 tr.finding")) == 5
        no_sideways_overflow(browser)
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def test_board_pack_in_chromium(browser: Any, shots: Path) -> None:
    cards = board_cards()
    board = build_board(cards)
    page = shots / "board.html"
    write_html_pack(cards, page)
    for width, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
        open_page(browser, page, width)
        assert console_errors(browser) == []
        assert "board pack" in browser.find_element(CSS, "h1").text
        league = browser.find_elements(CSS, "table.league tbody tr")
        assert len(league) == 3
        assert len(browser.find_elements(CSS, "table.league polyline")) == 3  # sparklines
        assert len(browser.find_elements(CSS, "table.league svg text")) == 6  # max and min
        heat_rows = browser.find_elements(CSS, "table.heat tbody tr")
        assert len(heat_rows) == 3
        cells = heat_rows[0].find_elements(CSS, "td:not(.gap)")
        assert len(cells) == len(board["heatmap"]["requirements"])
        groups = [g.text for g in browser.find_elements(CSS, "table.heat th.group")]
        assert groups == ["MUST", "SHOULD", "MAY"]
        assert browser.find_element(CSS, "#h-movers").is_displayed()
        assert "percentage points" in browser.find_element(CSS, "#h-movers + p").text
        assert browser.find_element(CSS, "#h-adopt").is_displayed()
        no_sideways_overflow(browser)  # the heatmap scrolls inside its own box
        save_screenshot(browser, shots, f"board-{label}", width)
        # each ICS opens its scorecard, which leads back to the board
        first = board["league"][0]
        browser.find_element(CSS, "table.league tbody th a").click()
        assert f"{first['ics']} / {first['sender']}" in browser.find_element(CSS, "h1").text
        assert console_errors(browser) == []
        no_sideways_overflow(browser)
        browser.find_element(CSS, "header a").click()
        assert "board pack" in browser.find_element(CSS, "h1").text
    pages = print_checks(browser, shots, "board")
    assert 1 <= pages <= 6, pages

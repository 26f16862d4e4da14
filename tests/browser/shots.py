"""Screenshots of the HTML pages for a person to review; also the tests' browser and data.

Run it (from the repository root, with the dev install and Debian's chromium and
chromium-driver) to write the pages and full-page PNGs at 1280 px and 400 px wide:

    python -m tests.browser.shots [--out /tmp/conformance-screenshots]

It validates ``sample_feeds/qop-failing`` for the scorecard (closed, then with a
requirement opened and the filter used) and writes the board pack of three ICSs over
three periods with its linked scorecards. The browser tests save their own screenshots
and copy them to the same folder.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SCREENSHOT_COPY_DIR = Path("/tmp/conformance-screenshots")
ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "tests" / "reporters" / "data"
WIDTHS = {"desktop": 1280, "phone": 400}

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
DRIVER_CANDIDATES = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


class NoBrowser(Exception):
    """Selenium, chromium or chromedriver is missing (the message says which)."""


def _first(paths: tuple[str, ...], env: str, name: str) -> str | None:
    wanted = os.environ.get(env)
    if wanted:
        return wanted if Path(wanted).exists() else None
    for path in paths:
        if Path(path).exists():
            return path
    return shutil.which(name)


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium from the system packages (no browser download)."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        raise NoBrowser("selenium is not installed (pip install selenium)") from None
    binary = _first(CHROMIUM_CANDIDATES, "CONFORMANCE_CHROMIUM", "chromium")
    driver_path = _first(DRIVER_CANDIDATES, "CONFORMANCE_CHROMEDRIVER", "chromedriver")
    if binary is None or driver_path is None:
        raise NoBrowser(
            "no headless browser: install the Debian packages chromium and chromium-driver "
            "(or set CONFORMANCE_CHROMIUM and CONFORMANCE_CHROMEDRIVER)"
        )
    profile = tempfile.mkdtemp(prefix="conformance-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def save_screenshot(driver: Any, folder: Path, name: str, width: int) -> Path:
    """A full-page screenshot at ``width`` CSS pixels, saved to ``folder`` and copied for review."""
    driver.set_window_size(width, 900)
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(width, min(max(height + 120, 600), 16000))
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    if folder.resolve() != SCREENSHOT_COPY_DIR.resolve():
        SCREENSHOT_COPY_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, SCREENSHOT_COPY_DIR / path.name)
    print(f"screenshot: {path}")
    return path


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


def open_page(driver: Any, path: Path, width: int) -> None:
    driver.set_window_size(width, 900)
    driver.get(path.as_uri())


def use_filter(driver: Any, text: str, severity: str = "") -> None:
    """Type into the scorecard's filter and choose a severity, as a user would."""
    from selenium.webdriver.support.ui import Select

    box = driver.find_element("css selector", "#filter input[name=q]")
    box.clear()
    box.send_keys(text)
    Select(driver.find_element("css selector", "#filter select[name=severity]")).select_by_value(
        severity
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SCREENSHOT_COPY_DIR)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import conformance
    from conformance.board import write_html_pack
    from conformance.reporters.html import render_scorecard

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    card = conformance.validate([str(ROOT / "sample_feeds" / "qop-failing")]).data
    scorecard = out / "scorecard.html"
    scorecard.write_text(render_scorecard(card), encoding="utf-8")
    board = out / "board.html"
    write_html_pack(board_cards(), board)
    try:
        with chromium() as driver:
            for label, width in WIDTHS.items():
                open_page(driver, scorecard, width)
                save_screenshot(driver, out, f"scorecard-{width}", width)
                use_filter(driver, "last-updated", "error")
                save_screenshot(driver, out, f"scorecard-filtered-{width}", width)
                open_page(driver, board, width)
                save_screenshot(driver, out, f"board-{width}", width)
                link = driver.find_element("css selector", "table.league tbody th a")
                link.click()
                save_screenshot(driver, out, f"board-linked-scorecard-{width}", width)
                print(f"{label} done")
    except NoBrowser as exc:
        print(f"shots: {exc}", file=sys.stderr)
        return 2
    print(f"pages and screenshots in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

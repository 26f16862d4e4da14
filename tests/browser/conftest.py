"""A headless Chromium driven by Selenium, from the system packages (no browser download).

Skips with a reason when Selenium, ``chromium`` or ``chromedriver`` is missing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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


def _first(paths: tuple[str, ...], env: str, name: str) -> str | None:
    wanted = os.environ.get(env)
    if wanted:
        return wanted if Path(wanted).exists() else None
    for path in paths:
        if Path(path).exists():
            return path
    return shutil.which(name)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install selenium)")
    binary = _first(CHROMIUM_CANDIDATES, "CONFORMANCE_CHROMIUM", "chromium")
    driver_path = _first(DRIVER_CANDIDATES, "CONFORMANCE_CHROMEDRIVER", "chromedriver")
    if binary is None or driver_path is None:
        pytest.skip(
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

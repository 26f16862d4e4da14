"""A headless Chromium driven by Selenium, from the system packages (no browser download).

Skips with a reason when Selenium, ``chromium`` or ``chromedriver`` is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.shots import NoBrowser, chromium


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        with chromium() as driver:
            yield driver
    except NoBrowser as exc:
        pytest.skip(str(exc))

"""Screenshots for a person to review: saved in a test folder and copied to a fixed one."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

SCREENSHOT_COPY_DIR = Path("/tmp/conformance-screenshots")


def save_screenshot(driver: Any, folder: Path, name: str, width: int) -> Path:
    """A full-page screenshot at ``width`` CSS pixels, saved to ``folder`` and copied for review."""
    driver.set_window_size(width, 900)
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(width, min(max(height + 120, 600), 16000))
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    SCREENSHOT_COPY_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, SCREENSHOT_COPY_DIR / path.name)
    print(f"screenshot: {path} (copy in {SCREENSHOT_COPY_DIR})")
    return path

"""Headless Chromium for the browser tests (the HTML report, the lab): Debian's chromium driven by playwright.

Never ``playwright install`` (no browser download here): playwright launches
``/usr/bin/chromium`` with flags that keep it off the network. Outside CI a
browser test is skipped when chromium or playwright is missing; in CI (``CI``
set) it must run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def browser_or_skip() -> Any:
    """playwright's ``sync_playwright``, or skip the test (fail it in CI) naming what is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    missing = [
        w for w, ok in (("playwright", sync_playwright is not None), (CHROMIUM, Path(CHROMIUM).exists())) if not ok
    ]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser test needs {', '.join(missing)} in CI (.ci/run installs chromium)")
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install chromium; pip install playwright)")
    return sync_playwright

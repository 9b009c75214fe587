"""Shared fixture of the browser tests: one headless Chromium per module."""

from __future__ import annotations

import pytest

from tests.browser.test_dashboard_browser import CHROMIUM, _require_browser


@pytest.fixture(scope="module")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()

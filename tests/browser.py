"""The one Playwright set-up for browser tests (a pytest plugin loaded by the
root conftest): the system Chromium, headless, with the flags every test used.

Request ``chromium`` after the fixtures that set up the database and servers;
extra launch flags come from ``@pytest.mark.chromium_args("--flag", ...)``.
"""

from __future__ import annotations

import pytest
from django.db import connections

CHROMIUM_EXECUTABLE = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_configure(config):
    config.addinivalue_line("markers", "chromium_args(*flags): extra Chromium flags for the chromium fixture")


@pytest.fixture
def chromium(request, monkeypatch):
    """A launched Playwright ``Browser``; closed after the test."""
    sync_api = pytest.importorskip("playwright.sync_api")
    marker = request.node.get_closest_marker("chromium_args")
    args = CHROMIUM_ARGS + list(marker.args if marker else ())
    # Playwright's sync API runs an event loop in this thread; the ORM calls
    # the test makes meanwhile are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM_EXECUTABLE, args=args)
        try:
            yield browser
        finally:
            browser.close()
            # ORM calls made while Playwright's loop ran got their own
            # (context-local) connections: close them, or the test database
            # cannot be flushed or dropped.
            connections.close_all()

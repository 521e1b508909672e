"""The one Playwright set-up for browser tests (a pytest plugin loaded by the
root conftest): the system Chromium, headless, with the flags every test used.

Request ``chromium`` after the fixtures that set up the database and servers
(or call ``launch_chromium()`` once the test's own ORM work is done);
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
def launch_chromium(request, monkeypatch):
    """Launches the browser when called, for tests whose own ORM work must be
    done first (ORM calls made while Playwright's loop runs use their own
    connection, which SQLite's shared in-memory test database may find
    locked).  Closed after the test."""
    sync_api = pytest.importorskip("playwright.sync_api")
    marker = request.node.get_closest_marker("chromium_args")
    args = CHROMIUM_ARGS + list(marker.args if marker else ())
    running = []

    def launch():
        # Playwright's sync API runs an event loop in this thread; the ORM
        # calls the test makes meanwhile are still plain synchronous code.
        monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        playwright = sync_api.sync_playwright().start()
        browser = playwright.chromium.launch(executable_path=CHROMIUM_EXECUTABLE, args=args)
        running.append((playwright, browser))
        return browser

    yield launch
    for playwright, browser in running:
        browser.close()
        playwright.stop()
    if running:
        # Close the connections opened while Playwright's loop ran, or the test
        # database cannot be flushed or dropped.
        connections.close_all()


@pytest.fixture
def chromium(launch_chromium):
    """A launched Playwright ``Browser``; request it after the fixtures that
    set up the database and servers."""
    return launch_chromium()

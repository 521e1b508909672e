"""Two browsers chat in a room served by a real ASGI server (uvicorn):
a message from one appears in the other; a moderator deletes it and it
disappears from both.  Django's live_server is WSGI-only, hence uvicorn
against the test database (PostgreSQL) or a file SQLite database
(tests/support/live_server.py)."""

from __future__ import annotations

import pytest

from tests.support.live_server import logged_in_page, served

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SETUP = """
from marquee.performers.models import Performer

stage = user("stage")
Performer.objects.create(user=stage, display_name="Stage", verification_status="verified")
alice = user("alice")
print(json.dumps({"performer": session_for(stage), "alice": session_for(alice)}))
"""


@pytest.fixture
def server(tmp_path):
    with served(tmp_path, SETUP) as server:
        yield server


def test_two_browsers_chat_and_moderator_deletes(server, chromium):
    from playwright.sync_api import expect

    base, sessions = server
    pages = {}
    for name, viewport in (("alice", {"width": 390, "height": 844}), ("performer", None)):
        _, page = logged_in_page(chromium, base, sessions[name], viewport=viewport, is_mobile=viewport is not None)
        page.goto(f"{base}/rooms/stage/")
        expect(page.locator("[data-chat-viewers]")).to_contain_text("watching", timeout=15000)
        pages[name] = page
    alice, performer = pages["alice"], pages["performer"]

    text = '<img src=x onerror="document.title=1"> hello from alice'
    alice.fill("[data-chat-form] input[name=text]", text)
    alice.press("[data-chat-form] input[name=text]", "Enter")
    for page in (alice, performer):
        line = page.locator(".chat-message", has_text="hello from alice")
        expect(line).to_have_count(1, timeout=10000)
        expect(line.locator(".chat-text")).to_have_text(text)  # rendered as text
        assert line.locator("img").count() == 0
    assert alice.locator(".chat-mod-btn").count() == 0  # no moderator tools for viewers
    alice.reload()  # a fresh join shows recent history
    expect(alice.locator(".chat-message", has_text="hello from alice")).to_have_count(1, timeout=10000)

    performer.locator(".chat-message", has_text="hello from alice").get_by_role("button", name="Delete alice").click()
    for page in (alice, performer):
        expect(page.locator(".chat-message", has_text="hello from alice")).to_have_count(0, timeout=10000)

"""Two browsers chat in a room served by a real ASGI server (uvicorn):
a message from one appears in the other; a moderator deletes it and it
disappears from both.  Django's live_server is WSGI-only, hence uvicorn
against the test database (PostgreSQL) or a file SQLite database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
SETUP = """
import datetime, json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from marquee.accounts.models import User
from marquee.performers.models import Performer

def user(name):
    u = User.objects.create(username=name, email=f"{name}@example.test", date_of_birth=datetime.date(1990, 1, 1),
                            date_joined=timezone.now() - datetime.timedelta(days=3))
    return u

def session_for(u):
    s = SessionStore()
    s[SESSION_KEY] = str(u.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = u.get_session_auth_hash()
    s.create()
    return s.session_key

stage = user("stage")
Performer.objects.create(user=stage, display_name="Stage", verification_status="verified")
alice = user("alice")
print(json.dumps({"performer": session_for(stage), "alice": session_for(alice)}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    env = {**os.environ, "AGE_GATE_ENABLED": "1", "LOG_LEVEL": "WARNING", "DEBUG": "1", "MARQUEE_TESTING": "0"}
    if settings.IS_POSTGRES:
        db = settings.DATABASES["default"]
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    else:
        env["DATABASE_URL"] = ""
        env["MARQUEE_VAR_DIR"] = str(tmp_path)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    setup = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SETUP],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    sessions = json.loads(setup.stdout.strip().splitlines()[-1])
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "marquee.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.time() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}", sessions
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_two_browsers_chat_and_moderator_deletes(server, chromium):
    from playwright.sync_api import expect

    base, sessions = server
    pages = {}
    for name, viewport in (("alice", {"width": 390, "height": 844}), ("performer", None)):
        context = chromium.new_context(viewport=viewport, is_mobile=viewport is not None)
        context.add_cookies([{"name": "sessionid", "value": sessions[name], "url": base}])
        page = context.new_page()
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

"""Shared by the browser tests that need WebSockets (Django's live_server is
WSGI-only): uvicorn serving the test database (PostgreSQL, or a file SQLite
database migrated for the run), set up by a ``manage.py shell`` script whose
last stdout line is JSON (e.g. session keys); the browser comes from the
``launch_chromium`` fixture (tests/browser.py)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
SESSION_HELPERS = """
import datetime, json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from marquee.accounts.models import User

def user(name, **extra):
    return User.objects.create(username=name, email=f"{name}@example.test", date_of_birth=datetime.date(1990, 1, 1),
                               date_joined=timezone.now() - datetime.timedelta(days=3), **extra)

def session_for(u):
    s = SessionStore()
    s[SESSION_KEY] = str(u.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = u.get_session_auth_hash()
    s["age_gate_passed"] = True
    s.create()
    return s.session_key
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(tmp_path, **extra) -> dict:
    env = {**os.environ, "AGE_GATE_ENABLED": "1", "LOG_LEVEL": "WARNING", "DEBUG": "1", "MARQUEE_TESTING": "0"}
    env.update(extra)
    if settings.IS_POSTGRES:
        db = settings.DATABASES["default"]
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    else:
        env["DATABASE_URL"] = ""
        env["MARQUEE_VAR_DIR"] = str(tmp_path)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    return env


def manage_shell(env, code: str):
    """Run ``code`` (after SESSION_HELPERS) in the server's settings; its last
    stdout line, parsed as JSON."""
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SESSION_HELPERS + code],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextmanager
def uvicorn(env):
    port = _free_port()
    cmd = [sys.executable, "-m", "uvicorn", "marquee.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen([*cmd, "--lifespan", "off", "--log-level", "warning"], cwd=ROOT, env=env)
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError("uvicorn did not start") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def served(tmp_path, setup: str, **env):
    """The site on uvicorn over a database prepared by ``setup`` (a
    ``manage_shell`` script): yields ``(base URL, its JSON)``."""
    env = server_env(tmp_path, **env)
    data = manage_shell(env, setup)
    with uvicorn(env) as base:
        yield base, data


def logged_in_page(browser, base: str, session_key: str, **context_options):
    context = browser.new_context(**context_options)
    context.add_cookies([{"name": "sessionid", "value": session_key, "url": base}])
    page = context.new_page()
    page.set_default_timeout(15000)
    return context, page

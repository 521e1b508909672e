"""Headers, CSP without inline code, CSRF, clickjacking, production
settings, API rate limits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from cryptography.fernet import Fernet
from django.core.files.uploadedfile import SimpleUploadedFile

from marquee.compliance.models import AgeVerification
from marquee.compliance.throttles import AnonIPThrottle, IPThrottle, UserThrottle
from tests.factories import JurisdictionFactory

pytestmark = pytest.mark.django_db


class InlineCodeFinder(HTMLParser):
    """Collects what a strict CSP would block: inline scripts, style=, on*=."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in attributes:
            if name.startswith("on") or name == "style":
                self.problems.append(f"<{tag} {name}=…>")
        if tag == "script" and "src" not in attributes and attributes.get("type") != "application/json":
            self._in_inline_script = True

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.problems.append(f"inline script: {data.strip()[:60]}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False


def _inline_code(html: bytes) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(html.decode())
    return finder.problems


@pytest.fixture
def pages_client(client, viewer, performer):
    client.force_login(performer.user)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/rooms/performer/",
        "/performers/performer/",
        "/me/",
        "/verify-age/",
        "/performer-verification/",
        "/legal/2257/",
    ],
)
def test_pages_have_strict_csp_and_no_inline_code(pages_client, path):
    response = pages_client.get(path)
    assert response.status_code == 200, path
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp and "base-uri 'self'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert _inline_code(response.content) == []


@pytest.mark.parametrize("path", ["/age-gate/", "/accounts/login/", "/accounts/signup/"])
def test_anonymous_pages_have_no_inline_code(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert _inline_code(response.content) == []


def test_blocked_page_has_no_inline_code(client, geoip_db):

    JurisdictionFactory(country="DE", rule="blocked")
    response = client.get("/", REMOTE_ADDR="100.64.0.1")
    assert response.status_code == 451 and _inline_code(response.content) == []


def test_admin_pages_have_no_inline_scripts(client, staff):
    client.force_login(staff)
    for path in [
        "/admin/",
        "/admin/compliance/jurisdiction/",
        "/admin/compliance/jurisdiction/add/",
        "/admin/audit/auditevent/",
    ]:
        response = client.get(path)
        assert response.status_code == 200
        assert [p for p in _inline_code(response.content) if p.startswith("inline script")] == [], path


def test_csrf_enforced_on_forms(viewer, private_root):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(viewer)
    png = SimpleUploadedFile("id.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")
    response = client.post("/verify-age/", {"document": png})
    assert response.status_code == 403
    assert not AgeVerification.objects.exists()
    # Session-authenticated API writes need the token too.
    assert client.put("/api/v1/performers/performer/follow/").status_code == 403


def _production_env(**extra):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DEBUG": "0",
        "SECRET_KEY": Fernet.generate_key().decode() * 2,
        "ALLOWED_HOSTS": "marquee.example",
        "MEDIA_HOOK_SECRET": "media-secret",
        "RECORDS_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "TRUSTED_PROXIES": "127.0.0.1",
        "MARQUEE_VAR_DIR": os.environ.get("MARQUEE_VAR_DIR", "var"),
    }
    env.update(extra)
    return env


def test_production_settings_pass_check_deploy():
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'marquee.settings'; django.setup();"
        "from django.core.management import call_command;"
        "call_command('check', deploy=True, fail_level='WARNING');"
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS >= 31536000,"
        " s.SECURE_SSL_REDIRECT, s.X_FRAME_OPTIONS, s.GEO_UNKNOWN_POLICY)"
    )
    result = subprocess.run([sys.executable, "-c", code], env=_production_env(), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split()[-6:] == ["True", "True", "True", "True", "DENY", "verify"]


def test_production_csp_limits_media_and_connections_to_the_site_and_media_origin():
    # Issue 17: no wildcard sources; media from the media origin, sockets to the site.
    code = (
        "import django, json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'marquee.settings'; django.setup();"
        "from django.test import Client;"
        "response = Client().get('/healthz', secure=True, HTTP_HOST='marquee.example');"
        "print(json.dumps(response['Content-Security-Policy']))"
    )
    env = _production_env(SITE_URL="https://marquee.example", MEDIA_PUBLIC_URL="https://media.marquee.example/hls/")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    header = json.loads(result.stdout.strip().splitlines()[-1])
    directives = {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}
    assert directives["connect-src"] == [
        "'self'",
        "https://marquee.example",
        "https://media.marquee.example",
        "wss://marquee.example",
    ]
    assert directives["media-src"] == ["'self'", "blob:", "https://media.marquee.example"]
    for name, sources in directives.items():
        assert not {"*", "ws:", "wss:", "http:", "https:"} & set(sources), (name, sources)


def test_rate_limits_declared_in_settings(settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert {"anon", "user", "ip"} <= set(rates)
    assert "marquee.compliance.throttles.UserThrottle" in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]


def test_anonymous_rate_limit_is_per_ip_and_not_spoofable(client, monkeypatch):
    monkeypatch.setattr(AnonIPThrottle, "rate", "3/min", raising=False)
    for _ in range(3):
        assert client.get("/api/v1/performers/", HTTP_X_FORWARDED_FOR="9.9.9.9").status_code == 200
    # A new X-Forwarded-For from an untrusted peer does not reset the limit.
    response = client.get("/api/v1/performers/", HTTP_X_FORWARDED_FOR="8.8.8.8")
    assert response.status_code == 429 and response.json()["error"]["code"] == "rate_limited"
    # Another address has its own budget.
    assert client.get("/api/v1/performers/", REMOTE_ADDR="127.0.0.2").status_code == 200


def test_user_rate_limit_is_per_user(client, viewer, outsider, monkeypatch):
    monkeypatch.setattr(UserThrottle, "rate", "2/min", raising=False)
    monkeypatch.setattr(IPThrottle, "rate", "100/min", raising=False)
    client.force_login(viewer)
    assert [client.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 429]
    client.force_login(outsider)
    assert client.get("/api/v1/me/").status_code == 200

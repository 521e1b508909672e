"""Helpers for driving allauth's headless app API like a mobile client would,
and for sign-up tests (birthdays, e-mailed codes)."""

from __future__ import annotations

import datetime
import json
import re

import pyotp
from django.core import mail
from django.utils import timezone

from tests.factories import PASSWORD

APP = "/_allauth/app/v1"


class AppClient:
    """A JSON client for /_allauth/app/v1/ and /api/v1/ (no cookies used)."""

    def __init__(self, client):
        self.client = client
        self.session_token = None

    def _headers(self, access_token=None):
        headers = {}
        if self.session_token:
            headers["HTTP_X_SESSION_TOKEN"] = self.session_token
        if access_token:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {access_token}"
        return headers

    def call(self, method, path, data=None, *, access_token=None, session=True, **extra):
        url = path if path.startswith("/api/") else APP + path
        if session:
            headers = self._headers(access_token)
        else:
            headers = {"HTTP_AUTHORIZATION": f"Bearer {access_token}"} if access_token else {}
        kwargs = {"content_type": "application/json", **headers, **extra}
        if data is not None:
            kwargs["data"] = json.dumps(data)
        # A mobile app keeps no cookies: only the tokens authenticate it.
        self.client.cookies.clear()
        response = getattr(self.client, method)(url, **kwargs)
        token = (response.json().get("meta") or {}).get("session_token") if _is_json(response) else None
        if token:
            self.session_token = token
        return response

    def login(self, email, password=PASSWORD):
        self.session_token = None  # a fresh login, like a newly installed app
        return self.call("post", "/auth/login", {"email": email, "password": password})

    def login_with_totp(self, email, secret, password=PASSWORD):
        response = self.login(email, password)
        assert response.status_code == 401, response.content
        response = self.call("post", "/auth/2fa/authenticate", {"code": pyotp.TOTP(secret).now()})
        assert response.status_code == 200, response.content
        meta = response.json()["meta"]
        return meta["access_token"], meta["refresh_token"]

    def refresh(self, refresh_token):
        return self.call("post", "/tokens/refresh", {"refresh_token": refresh_token}, session=False)

    def me(self, access_token):
        return self.call("get", "/api/v1/me", access_token=access_token, session=False)


def _is_json(response):
    return response.get("Content-Type", "").startswith("application/json")


def birthday_years_ago(years: int, *, days_later: int = 0) -> datetime.date:
    """The date of birth of someone who turns ``years`` today (Feb 29 → Feb 28)."""
    today = timezone.localdate()
    try:
        birthday = today.replace(year=today.year - years)
    except ValueError:
        birthday = today.replace(year=today.year - years, day=28)
    return birthday + datetime.timedelta(days=days_later)


def emailed_code(index=-1) -> str:
    """The verification code from the last e-mail (format XXXX-XXXX)."""
    match = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", mail.outbox[index].body, re.MULTILINE)
    assert match, mail.outbox[index].body
    return match.group(1)

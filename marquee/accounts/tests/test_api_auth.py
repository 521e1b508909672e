"""The headless app API: signup, TOTP login, JWT access/refresh, revocation."""

from __future__ import annotations

import time
import types

import pyotp
import pytest
from allauth.account.models import EmailAddress
from allauth.headless.tokens.strategies.jwt import internal as jwt_internal

from marquee.accounts.models import User
from marquee.audit.models import AuditEvent
from tests.support.accounts import birthday_years_ago, emailed_code

pytestmark = pytest.mark.django_db

ADULT_DOB = "1990-01-01"


def _signup(app_client, dob, email="new@example.test", username="newbie"):
    return app_client.call(
        "post",
        "/auth/signup",
        {"email": email, "username": username, "password": "a-long-enough-password-1", "date_of_birth": dob},
    )


def test_signup_under_18_refused_with_clear_message_and_nothing_created(app_client, mailoutbox):
    response = _signup(app_client, birthday_years_ago(18, days_later=1).isoformat())  # turns 18 tomorrow
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any(e.get("param") == "date_of_birth" and "at least 18" in e["message"] for e in errors), errors
    assert not User.objects.filter(email="new@example.test").exists()
    assert not EmailAddress.objects.filter(email="new@example.test").exists()
    assert mailoutbox == []


def test_signup_without_date_of_birth_refused(app_client):
    response = app_client.call(
        "post", "/auth/signup", {"email": "x@example.test", "username": "xx-x", "password": "a-long-enough-password-1"}
    )
    assert response.status_code == 400
    assert not User.objects.filter(email="x@example.test").exists()


def test_signup_verify_by_code_then_call_me_with_bearer(app_client, mailoutbox):
    response = _signup(app_client, birthday_years_ago(18).isoformat())  # 18 today: allowed
    assert response.status_code == 401
    flows = {f["id"]: f for f in response.json()["data"]["flows"]}
    assert flows["verify_email"]["is_pending"] is True
    assert "access_token" not in response.json()["meta"]

    response = app_client.call("post", "/auth/email/verify", {"key": emailed_code()})
    assert response.status_code == 200, response.content
    access = response.json()["meta"]["access_token"]

    me = app_client.me(access)
    assert me.status_code == 200
    assert me.json()["username"] == "newbie"
    assert me.json()["date_of_birth"] == birthday_years_ago(18).isoformat()
    assert me.json()["two_factor_enabled"] is False
    assert AuditEvent.objects.filter(action="auth.signup", actor__username="newbie").exists()


def test_login_asks_for_totp_before_any_token(app_client, performer):
    response = app_client.login("performer@example.test")
    assert response.status_code == 401
    pending = [f for f in response.json()["data"]["flows"] if f.get("is_pending")]
    assert pending == [{"id": "mfa_authenticate", "is_pending": True, "types": ["totp"]}]
    assert "access_token" not in response.json()["meta"]

    wrong = str((int(pyotp.TOTP(performer.totp_secret).now()) + 1) % 1_000_000).zfill(6)
    response = app_client.call("post", "/auth/2fa/authenticate", {"code": wrong})
    assert response.status_code == 400
    assert AuditEvent.objects.filter(action="auth.2fa_failed", actor=performer.user).exists()

    response = app_client.call("post", "/auth/2fa/authenticate", {"code": pyotp.TOTP(performer.totp_secret).now()})
    assert response.status_code == 200
    meta = response.json()["meta"]
    me = app_client.me(meta["access_token"])
    assert me.status_code == 200
    assert me.json()["username"] == "performer"
    assert me.json()["is_performer"] is True
    assert me.json()["two_factor_enabled"] is True
    assert AuditEvent.objects.filter(action="auth.login", actor=performer.user).count() == 1


def test_bad_password_is_audited_and_gives_no_session(app_client, viewer):
    response = app_client.login("viewer@example.test", password="wrong-password-123")
    assert response.status_code == 400
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.details == {"login": "viewer@example.test"}
    assert not AuditEvent.objects.filter(action="auth.login").exists()


def test_refresh_rotates_and_each_refresh_token_works_once(app_client, performer):
    access, refresh = app_client.login_with_totp("performer@example.test", performer.totp_secret)
    response = app_client.refresh(refresh)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["refresh_token"] != refresh
    assert data["access_token"] != access
    assert app_client.me(data["access_token"]).status_code == 200
    # The new refresh token rotates again.
    second = app_client.refresh(data["refresh_token"])
    assert second.status_code == 200
    assert app_client.me(second.json()["data"]["access_token"]).status_code == 200


def test_replayed_refresh_token_revokes_the_whole_session(app_client, performer):
    access, stolen = app_client.login_with_totp("performer@example.test", performer.totp_secret)
    rotated = app_client.refresh(stolen).json()["data"]  # the owner refreshes first

    replay = app_client.refresh(stolen)  # a copy of the old token comes back
    assert replay.status_code in (400, 401)
    assert "access_token" not in replay.content.decode()

    # Every token of that session is now dead, the owner's included.
    assert app_client.me(access).status_code == 401
    assert app_client.me(rotated["access_token"]).status_code == 401
    assert app_client.refresh(rotated["refresh_token"]).status_code in (400, 401)
    event = AuditEvent.objects.get(action="auth.session_revoked")
    assert event.actor_id == performer.user_id
    assert event.details == {"reason": "refresh_token_reuse"}


def test_logout_kills_access_and_refresh_tokens(app_client, performer):
    access, refresh = app_client.login_with_totp("performer@example.test", performer.totp_secret)
    assert app_client.me(access).status_code == 200
    response = app_client.call("delete", "/auth/session", access_token=access, session=False)
    assert response.status_code == 401  # allauth answers "not authenticated any more"
    assert app_client.me(access).status_code == 401
    assert app_client.refresh(refresh).status_code in (400, 401)
    assert AuditEvent.objects.filter(action="auth.logout", actor=performer.user).exists()


def test_ending_another_session_kills_its_tokens(client, viewer):
    from tests.support.accounts import AppClient

    phone, laptop = AppClient(client), AppClient(client)
    phone_access = phone.login("viewer@example.test").json()["meta"]["access_token"]
    laptop_access = laptop.login("viewer@example.test").json()["meta"]["access_token"]
    sessions = laptop.call("get", "/auth/sessions", access_token=laptop_access, session=False).json()["data"]
    assert len(sessions) == 2
    other = next(s for s in sessions if not s["is_current"])
    response = laptop.call(
        "delete", "/auth/sessions", {"sessions": [other["id"]]}, access_token=laptop_access, session=False
    )
    assert response.status_code == 200
    assert laptop.me(laptop_access).status_code == 200
    assert phone.me(phone_access).status_code == 401
    event = AuditEvent.objects.get(action="auth.session_revoked")
    assert event.actor_id == viewer.pk


def test_access_token_expires_after_five_minutes(app_client, viewer, monkeypatch, settings):
    assert settings.HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN == 300
    real_time = time.time

    def issued_seconds_ago(seconds):
        # Tokens are stamped by allauth's clock; move only that clock back.
        monkeypatch.setattr(jwt_internal, "time", types.SimpleNamespace(time=lambda: real_time() - seconds))
        response = app_client.login("viewer@example.test")
        monkeypatch.setattr(jwt_internal, "time", time)
        return response.json()["meta"]["access_token"]

    assert app_client.me(issued_seconds_ago(290)).status_code == 200
    expired = app_client.me(issued_seconds_ago(301))
    assert expired.status_code == 401
    assert expired.json()["error"]["code"] == "not_authenticated"


def test_me_refuses_garbage_and_missing_tokens(app_client):
    assert app_client.me(None).status_code == 401
    assert app_client.me("not.a.jwt").status_code == 401
    response = app_client.call("get", "/api/v1/me", session=False)
    assert response.json()["error"]["code"] == "not_authenticated"

"""Refresh-token reuse: a second presentation that races the first (the first
has claimed the token but not rotated it yet) is reuse too, and revoking a
session ends its tracked user sessions."""

from __future__ import annotations

from unittest import mock

import pytest
from allauth.headless.tokens.strategies.jwt import JWTTokenStrategy
from allauth.usersessions.models import UserSession

from marquee.accounts.tokens import RotatingJWTTokenStrategy
from marquee.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_second_presentation_while_the_first_is_in_flight_revokes_the_session(app_client, performer):
    access, refresh = app_client.login_with_totp("performer@example.test", performer.totp_secret)
    strategy = RotatingJWTTokenStrategy()
    # The first request has claimed the token; its rotation has not happened yet.
    with mock.patch.object(JWTTokenStrategy, "refresh_token", return_value=("in-flight", "rotation")):
        assert strategy.refresh_token(refresh) == ("in-flight", "rotation")
        assert strategy.refresh_token(refresh) is None
    assert app_client.me(access).status_code == 401
    assert app_client.refresh(refresh).status_code in (400, 401)
    event = AuditEvent.objects.get(action="auth.session_revoked")
    assert event.details == {"reason": "refresh_token_reuse"}
    assert event.actor_id == performer.user_id


def test_reuse_ends_the_tracked_user_session(app_client, performer):
    _, stolen = app_client.login_with_totp("performer@example.test", performer.totp_secret)
    assert UserSession.objects.filter(user=performer.user).count() == 1
    untouched = UserSession.objects.exclude(user=performer.user).count()
    app_client.refresh(stolen)
    assert app_client.refresh(stolen).status_code in (400, 401)
    assert not UserSession.objects.filter(user=performer.user).exists()
    assert UserSession.objects.exclude(user=performer.user).count() == untouched

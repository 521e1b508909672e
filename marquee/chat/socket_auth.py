"""Who is on the other end of a chat socket: the session (cookie) or the
allauth headless JWT sent in the first message."""

from __future__ import annotations

from django.conf import settings


def session_user(session_key):
    """The user the session (cookie or the JWT's) still logs in, or None
    when it was deleted, expired or invalidated (e.g. a password change)."""
    from importlib import import_module

    from allauth.core.internal.sessionkit import get_session_user

    if not session_key:
        return None
    return get_session_user(import_module(settings.SESSION_ENGINE).SessionStore(session_key))


def validate_token(token):
    from allauth.headless.tokens.strategies.jwt import internal

    if not isinstance(token, str) or not token:
        return None
    result = internal.validate_access_token(token)
    if result is None:
        return None
    user, payload = result
    if not user.is_active:
        return None
    return user, payload, internal.session_key_from_sid(payload["sid"])

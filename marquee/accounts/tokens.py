"""allauth's JWT strategy plus refresh-token reuse detection.

A refresh token is single-use.  If a validly signed, unexpired refresh token
comes back after it was already rotated, someone holds a copy (theft or a
leaked log), so the whole session is revoked: both the thief's and the
owner's tokens stop working, and the owner logs in again.
"""

from __future__ import annotations

from allauth.headless.tokens.strategies.jwt import JWTTokenStrategy, internal
from allauth.usersessions.models import UserSession
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache

from marquee.audit.services import record_audit
from marquee.lib.events import send_user_event


def revoke_session(session, *, reason: str, user_id=None) -> None:
    session_key = session.session_key
    owner_id = user_id or session.get(SESSION_KEY)
    if owner_id:
        # Chat sockets of this session close (on commit, in every process).
        send_user_event(int(owner_id), "session_ended", {"session_key": session_key, "reason": "session_revoked"})
    for user_session in UserSession.objects.filter(session_key=session_key):
        user_session.end()
    session.delete()
    record_audit(action="auth.session_revoked", actor_id=user_id, details={"reason": reason})


class RotatingJWTTokenStrategy(JWTTokenStrategy):
    def refresh_token(self, refresh_token: str):
        payload = internal.decode_token(refresh_token, "refresh")
        if payload is None:
            return None
        # First presentation wins, atomically, even for concurrent requests.
        first_use = cache.add(f"jwt-refresh-used:{payload['jti']}", 1, timeout=max(1, payload["exp"] - payload["iat"]))
        session = internal.get_token_session(payload)
        if session is None:
            return None
        known = internal.get_refresh_token_state(session)
        if not first_use or payload["jti"] not in known:
            revoke_session(session, reason="refresh_token_reuse", user_id=_user_id(payload))
            return None
        return super().refresh_token(refresh_token)


def _user_id(payload):
    try:
        return int(payload["sub"])
    except (KeyError, TypeError, ValueError):
        return None

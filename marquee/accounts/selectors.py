from __future__ import annotations

from types import SimpleNamespace

from allauth.account.internal.flows.reauthentication import did_recently_reauthenticate
from allauth.headless.tokens.strategies.jwt import internal as jwt_internal
from allauth.mfa.models import Authenticator

from marquee.lib.errors import DomainError


def has_two_factor(user) -> bool:
    """TOTP or a security key enrolled (recovery codes alone don't count)."""
    if not user or not user.is_authenticated:
        return False
    return Authenticator.objects.filter(
        user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
    ).exists()


def require_two_factor(user) -> None:
    """Raise ``TwoFactorRequired`` unless the user has 2FA on.  Called by the
    go-live hook and payout requests, server-side."""
    if not has_two_factor(user):
        raise TwoFactorRequired("Turn on two-factor authentication first (Account → Two-factor).")


class TwoFactorRequired(Exception):
    pass


def recently_reauthenticated(request) -> bool:
    """Did this session enter its password (or a second factor) again within
    ``ACCOUNT_REAUTHENTICATION_TIMEOUT``?  Works for cookie sessions and for
    the app session behind a JWT access token (allauth keeps the record there),
    so a stolen session or access token alone is not enough."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    session = _session_of(request)
    if session is None:
        return False
    return did_recently_reauthenticate(SimpleNamespace(user=user, session=session))


def require_recent_reauthentication(request) -> None:
    """Raise ``ReauthenticationRequired`` (403) unless the caller recently
    reauthenticated.  For sensitive changes outside allauth (payouts)."""
    if not recently_reauthenticated(request):
        raise ReauthenticationRequired(
            "reauthentication_required",
            "Enter your password (or a two-factor code) again to continue.",
            403,
            reauthenticate_url=REAUTHENTICATE_URL,
            app_reauthenticate_url=APP_REAUTHENTICATE_URL,
        )


REAUTHENTICATE_URL = "/accounts/reauthenticate/"
APP_REAUTHENTICATE_URL = "/_allauth/app/v1/auth/reauthenticate"


class ReauthenticationRequired(DomainError):
    pass


def _session_of(request):
    # DRF's JWT authentication leaves the token payload in ``request.auth``;
    # its ``sid`` names the app session where allauth records reauthentication.
    payload = getattr(request, "auth", None)
    if isinstance(payload, dict) and "sid" in payload:
        return jwt_internal.get_token_session(payload)
    return getattr(request, "session", None)

from __future__ import annotations

from allauth.mfa.models import Authenticator


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

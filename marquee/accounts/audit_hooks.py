"""Audit rows for account security events.

allauth performs these actions (web pages and headless API alike); we only
listen to its signals and write one audit row each.  No business logic here.
"""

from __future__ import annotations

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.contrib.auth import signals as auth_signals

from marquee.audit.services import record_audit


def _audit(action: str, request, user, **details) -> None:
    record_audit(action=action, actor=user, request=request, details=details)


def on_logged_in(sender, request, user, **kwargs):
    _audit("auth.login", request, user)


def on_logged_out(sender, request, user, **kwargs):
    if user is not None:
        _audit("auth.logout", request, user)


def on_signed_up(sender, request, user, **kwargs):
    _audit("auth.signup", request, user)


def on_password_changed(sender, request, user, **kwargs):
    _audit("auth.password_changed", request, user)


def on_password_reset(sender, request, user, **kwargs):
    _audit("auth.password_reset", request, user)


def on_authenticator_added(sender, request, user, authenticator, **kwargs):
    _audit("auth.2fa_added", request, user, type=authenticator.type)


def on_authenticator_removed(sender, request, user, authenticator, **kwargs):
    _audit("auth.2fa_removed", request, user, type=authenticator.type)


def on_authenticator_reset(sender, request, user, authenticator, **kwargs):
    _audit("auth.2fa_reset", request, user, type=authenticator.type)


def on_authenticator_used(sender, request, user, authenticator, **kwargs):
    # A recovery code is single-use and a sign the device was lost: worth a row.
    if authenticator.type == Authenticator.Type.RECOVERY_CODES:
        _audit("auth.recovery_code_used", request, user)


def on_mfa_failed(sender, request, user, authenticator=None, **kwargs):
    _audit("auth.2fa_failed", request, user, type=getattr(authenticator, "type", ""))


def connect() -> None:
    account_signals.user_logged_in.connect(on_logged_in, dispatch_uid="marquee-audit-login")
    auth_signals.user_logged_out.connect(on_logged_out, dispatch_uid="marquee-audit-logout")
    account_signals.user_signed_up.connect(on_signed_up, dispatch_uid="marquee-audit-signup")
    account_signals.password_changed.connect(on_password_changed, dispatch_uid="marquee-audit-pw-changed")
    account_signals.password_reset.connect(on_password_reset, dispatch_uid="marquee-audit-pw-reset")
    mfa_signals.authenticator_added.connect(on_authenticator_added, dispatch_uid="marquee-audit-mfa-added")
    mfa_signals.authenticator_removed.connect(on_authenticator_removed, dispatch_uid="marquee-audit-mfa-removed")
    mfa_signals.authenticator_reset.connect(on_authenticator_reset, dispatch_uid="marquee-audit-mfa-reset")
    mfa_signals.authenticator_used.connect(on_authenticator_used, dispatch_uid="marquee-audit-mfa-used")
    mfa_signals.authentication_failed.connect(on_mfa_failed, dispatch_uid="marquee-audit-mfa-failed")

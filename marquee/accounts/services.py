"""Writes on accounts: the user's own settings, staff suspension."""

from __future__ import annotations

from django.db import transaction

from marquee.accounts.models import User
from marquee.audit.services import record_audit
from marquee.lib.errors import DomainError
from marquee.lib.events import send_user_event
from marquee.lib.formatting import valid_zone


def checked_timezone(name: str) -> str:
    zone = valid_zone((name or "").strip())
    if zone is None:
        raise DomainError("bad_timezone", "Choose a time zone from the list (for example Europe/Paris).", 400)
    return zone


def set_timezone(*, user, name: str) -> str:
    """Store the zone every time is shown in (an IANA name, e.g. "Europe/Paris")."""
    zone = checked_timezone(name)
    if user.timezone != zone:
        user.timezone = zone
        user.save(update_fields=["timezone"])
    return zone


def set_tip_confirmation(*, user, confirm: bool) -> bool:
    """Whether the room's quick tip buttons ask before spending."""
    confirm = bool(confirm)
    if user.confirm_tips != confirm:
        user.confirm_tips = confirm
        user.save(update_fields=["confirm_tips"])
    return confirm


def suspend_user(*, user, actor, reason: str, request=None) -> bool:
    """Staff suspend an account: it can no longer log in, its sessions end
    (web, app tokens, chat sockets).  Returns False if it already was."""
    from allauth.usersessions.models import UserSession

    reason = (reason or "").strip()[:300]
    with transaction.atomic():
        if not User.objects.filter(pk=user.pk, is_active=True).update(is_active=False):
            return False
        for session in UserSession.objects.filter(user=user):
            session.end()
        # Closes every chat socket of this user, in every process (on commit).
        send_user_event(user.pk, "session_ended", {"session_key": None, "reason": "session_revoked"})
        record_audit(action="account.suspended", actor=actor, request=request, target=user, details={"reason": reason})
    user.is_active = False
    return True


def unsuspend_user(*, user, actor, request=None) -> bool:
    with transaction.atomic():
        if not User.objects.filter(pk=user.pk, is_active=False).update(is_active=True):
            return False
        record_audit(action="account.unsuspended", actor=actor, request=request, target=user)
    user.is_active = True
    return True

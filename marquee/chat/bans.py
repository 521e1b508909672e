"""Chat restrictions: timeouts, room bans, site-wide bans and lifting them,
with the rules on who may restrict whom.  Their own module (out of
``services``) so the ban rules can be read, tested and mutation-tested
alone; reads (``selectors.active_restriction``) stay in ``selectors``."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from marquee.audit.services import record_audit
from marquee.chat.actions import ChatError, log_action, require_moderator, room_name
from marquee.chat.models import ChatBan
from marquee.lib import domain_events
from marquee.lib.events import send_room_event, send_user_event
from marquee.lib.fields import clip
from marquee.performers.selectors import is_room_moderator

# A timeout lasts from one second to seven days.
TIMEOUT_MAX_SECONDS = 7 * 86400


def check_target(actor, performer, target) -> None:
    if target.pk == performer.user_id:
        raise ChatError("forbidden", "The performer cannot be restricted in their own room.", 403)
    if target.pk == actor.pk:
        raise ChatError("invalid", "You cannot restrict yourself.")
    if is_room_moderator(target, performer) and not (actor.pk == performer.user_id or actor.is_staff):
        raise ChatError("forbidden", "Only the performer can restrict a moderator.", 403)


def restrict(*, actor, performer, target, kind: str, seconds: int | None, reason: str, ip: str = "") -> ChatBan:
    room = room_name(performer) if performer is not None else None
    expires = timezone.now() + datetime.timedelta(seconds=seconds) if seconds else None
    with transaction.atomic():
        ban = ChatBan.objects.create(
            performer=performer,
            user=target,
            kind=kind,
            reason=clip(reason, ChatBan, "reason"),
            created_by=actor,
            expires_at=expires,
        )
        details = {"seconds": seconds, "reason": reason}
        if performer is not None:
            log_action(
                actor=actor, performer=performer, action=f"user_{kind}", target_user=target, details=details, ip=ip
            )
            payload = {
                "action": kind,
                "user": target.username,
                "seconds": seconds,
                "by": actor.username if actor else "automod",
            }
            send_room_event(room, "moderation", payload)
        else:
            record_audit(action="chat.site_ban", actor=actor, ip=ip, target=target, details=details)
        if kind == ChatBan.Kind.BAN:
            # Their open sockets close now; reconnecting is refused.
            send_user_event(target.pk, "kick", {"room": room, "reason": "banned"})
            # Shows they pay for in the room (or anywhere, site-wide) end: privates listens.
            domain_events.send("chat.banned", user_id=target.pk, performer_id=performer.pk if performer else None)
    return ban


def timeout_user(*, actor, performer, target, seconds: int, reason: str = "", ip: str = "") -> ChatBan:
    require_moderator(actor, performer)
    check_target(actor, performer, target)
    if not 1 <= seconds <= TIMEOUT_MAX_SECONDS:
        raise ChatError("invalid", "A timeout lasts from 1 second to 7 days.")
    return restrict(
        actor=actor,
        performer=performer,
        target=target,
        kind=ChatBan.Kind.TIMEOUT,
        seconds=seconds,
        reason=reason,
        ip=ip,
    )


def ban_user(*, actor, performer, target, reason: str = "", ip: str = "") -> ChatBan:
    require_moderator(actor, performer)
    check_target(actor, performer, target)
    return restrict(
        actor=actor, performer=performer, target=target, kind=ChatBan.Kind.BAN, seconds=None, reason=reason, ip=ip
    )


def lift_restrictions(*, actor, performer, target, ip: str = "") -> int:
    require_moderator(actor, performer)
    with transaction.atomic():
        lifted = ChatBan.objects.filter(performer=performer, user=target, lifted_at__isnull=True).update(
            lifted_at=timezone.now()
        )
        log_action(
            actor=actor,
            performer=performer,
            action="user_unbanned",
            target_user=target,
            details={"lifted": lifted},
            ip=ip,
        )
        send_room_event(
            room_name(performer), "moderation", {"action": "unban", "user": target.username, "by": actor.username}
        )
    return lifted


def site_ban(*, actor, target, reason: str, ip: str = "") -> ChatBan:
    if not (actor and actor.is_authenticated and actor.is_staff):
        raise ChatError("forbidden", "Only staff can ban site-wide.", 403)
    if target.is_staff:
        raise ChatError("forbidden", "Staff accounts cannot be banned here.", 403)
    return restrict(
        actor=actor, performer=None, target=target, kind=ChatBan.Kind.BAN, seconds=None, reason=reason, ip=ip
    )

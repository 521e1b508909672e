"""Every chat write: posting through the moderation pipeline, and the
moderator tools.  Moderator actions run in one transaction with their audit
row and log entry; their events leave on commit."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from marquee.audit.services import record_audit
from marquee.chat import moderation, protocol, selectors, store
from marquee.chat.models import ChatBan, ChatMessage, ChatRoomRules, ModerationAction
from marquee.lib import domain_events, realtime
from marquee.lib.errors import DomainError
from marquee.lib.events import send_room_event, send_user_event
from marquee.performers.models import Performer
from marquee.performers.selectors import is_room_moderator


class ChatError(DomainError):
    """A refused chat or moderation action."""


@dataclass(frozen=True)
class PostResult:
    status: str  # "sent", "held" or "refused"
    code: str = ""
    message: str = ""
    event_id: int | None = None


def _room(performer) -> str:
    return performer.user.username


# --- Posting ---------------------------------------------------------------------------


def post_message(*, user, performer, text: str, role: str, is_moderator: bool) -> PostResult:
    """Run the pipeline; publish once to the room, store in the next batch.
    The hot path writes nothing to the database."""
    restriction = selectors.active_restriction(user, performer)
    if restriction is not None:
        if restriction.kind == ChatBan.Kind.BAN:
            return PostResult("refused", "banned", "You are banned from this chat.")
        remaining = max(1, int((restriction.expires_at - timezone.now()).total_seconds()))
        return PostResult("refused", "timed_out", f"You are timed out for {remaining} more seconds.")
    room = _room(performer)
    rules = selectors.room_rules(performer)
    manual_slow = Performer.objects.filter(pk=performer.pk).values_list("chat_slow_mode_seconds", flat=True).first()
    ctx = moderation.Context(
        user=user,
        room=room,
        text=text,
        is_moderator=is_moderator,
        config=moderation.room_config(rules),
        blocked_words=rules.blocked_words if rules else [],
        regex_rules=rules.regex_rules if rules else [],
        secret_words=rules.secret_words if rules else [],
        slow_mode_seconds=max(manual_slow or 0, cache.get(f"chat:auto-slow:{room}") or 0),
    )
    verdict = moderation.run(ctx)
    now = timezone.now()
    if verdict.action == moderation.REFUSE:
        if verdict.timeout_seconds:
            _restrict(
                actor=None,
                performer=performer,
                target=user,
                kind=ChatBan.Kind.TIMEOUT,
                seconds=verdict.timeout_seconds,
                reason=verdict.code,
            )
        return PostResult("refused", verdict.code, verdict.message)
    if verdict.action == moderation.HOLD:
        held = ChatMessage.objects.create(
            performer=performer,
            author=user,
            author_name=user.username,
            author_role=role,
            text=ctx.text,
            state=ChatMessage.State.HELD,
            flags=ctx.flags,
            created_at=now,
        )
        realtime.publish_moderator_event(room, {"type": "review", "action": "held", **_held_payload(held)})
        return PostResult("held", verdict.code, verdict.message)
    event = protocol.message_event(username=user.username, role=role, text=ctx.text, created_at=now)
    seq = realtime.publish_room_event(room, event)
    store.enqueue(
        ChatMessage(
            performer_id=performer.pk,
            seq=seq,
            author_id=user.pk,
            author_name=user.username,
            author_role=role,
            text=ctx.text,
            flags=ctx.flags,
            created_at=now,
        )
    )
    domain_events.send("chat.posted", user_id=user.pk, performer_id=performer.pk)
    if ctx.flags:
        realtime.publish_moderator_event(
            room, {"type": "review", "action": "flagged", "message_id": seq, "user": user.username, "flags": ctx.flags}
        )
    _watch_for_spike(room, ctx.config)
    return PostResult("sent", event_id=seq)


def _watch_for_spike(room: str, config: dict) -> None:
    """Automatic slow mode when the room's message rate spikes."""
    bucket = int(timezone.now().timestamp() // 10)
    key = f"chat:room-rate:{room}:{bucket}"
    cache.add(key, 0, timeout=30)
    if cache.incr(key) <= config["auto_slow_mode_messages_per_10s"]:
        return
    seconds, duration = config["auto_slow_mode_seconds"], config["auto_slow_mode_duration"]
    if cache.add(f"chat:auto-slow:{room}", seconds, timeout=duration):
        realtime.publish_room_event(
            room,
            {"type": "moderation", "action": "slow_mode", "seconds": seconds, "automatic": True, "duration": duration},
        )


def _held_payload(message: ChatMessage) -> dict:
    return {
        "held_id": message.pk,
        "user": message.author_name,
        "text": message.text,
        "flags": message.flags,
        "ts": message.created_at.isoformat(),
    }


# --- Moderator tools ------------------------------------------------------------------------


def _require_moderator(actor, performer) -> None:
    if not is_room_moderator(actor, performer):
        raise ChatError("forbidden", "Only the performer and the room's moderators can do that.", 403)


def _log(*, actor, performer, action: str, target_user=None, details: dict | None = None, ip: str = "") -> None:
    ModerationAction.objects.create(
        performer=performer, actor=actor, action=action, target_user=target_user, details=details or {}
    )
    record_audit(
        action=f"chat.{action}",
        actor=actor,
        ip=ip,
        target=performer,
        details={**(details or {}), **({"user_id": target_user.pk} if target_user else {})},
    )


def _check_target(actor, performer, target) -> None:
    if target.pk == performer.user_id:
        raise ChatError("forbidden", "The performer cannot be restricted in their own room.", 403)
    if target.pk == actor.pk:
        raise ChatError("invalid", "You cannot restrict yourself.")
    if is_room_moderator(target, performer) and not (actor.pk == performer.user_id or actor.is_staff):
        raise ChatError("forbidden", "Only the performer can restrict a moderator.", 403)


def _mark_deleted(performer, seqs: set[int]) -> None:
    """Deleted rows, or tombstones for messages still in a write buffer
    (the batch insert skips rows that exist)."""
    existing = set(ChatMessage.objects.filter(performer=performer, seq__in=seqs).values_list("seq", flat=True))
    ChatMessage.objects.filter(performer=performer, seq__in=existing).update(state=ChatMessage.State.DELETED)
    now = timezone.now()
    ChatMessage.objects.bulk_create(
        [
            ChatMessage(performer=performer, seq=s, state=ChatMessage.State.DELETED, created_at=now)
            for s in seqs - existing
        ],
        ignore_conflicts=True,
    )


def _recent_message_ids(room: str, *, username: str | None = None) -> dict[int, str]:
    """Message ids (→ author) in the room's recent history."""
    import json

    _, ring = realtime.recent_events(room)
    found = {}
    for seq, raw in ring:
        event = json.loads(raw)
        if event.get("type") == "message" and (username is None or event.get("user") == username):
            found[seq] = event.get("user")
    return found


def delete_message(*, actor, performer, message_id: int, ip: str = "") -> None:
    _require_moderator(actor, performer)
    room = _room(performer)
    known = ChatMessage.objects.filter(performer=performer, seq=message_id).exists()
    if not known and message_id not in _recent_message_ids(room):
        raise ChatError("not_found", "No such message.", 404)
    with transaction.atomic():
        _mark_deleted(performer, {message_id})
        _log(actor=actor, performer=performer, action="message_deleted", details={"message_id": message_id}, ip=ip)
        send_room_event(room, "moderation", {"action": "deleted", "message_ids": [message_id], "by": actor.username})


def clear_user_messages(*, actor, performer, target, ip: str = "", hours: int = 1) -> list[int]:
    """Delete a user's recent messages (last hour) for everyone."""
    _require_moderator(actor, performer)
    room = _room(performer)
    since = timezone.now() - datetime.timedelta(hours=hours)
    seqs = set(
        ChatMessage.objects.filter(
            performer=performer, author=target, state=ChatMessage.State.VISIBLE, created_at__gte=since
        ).values_list("seq", flat=True)
    )
    seqs |= {m.seq for m in store.pending_for(performer.pk, target.pk)}
    seqs |= set(_recent_message_ids(room, username=target.username))
    with transaction.atomic():
        _mark_deleted(performer, seqs)
        _log(
            actor=actor,
            performer=performer,
            action="messages_cleared",
            target_user=target,
            details={"count": len(seqs)},
            ip=ip,
        )
        send_room_event(
            room,
            "moderation",
            {"action": "cleared", "user": target.username, "message_ids": sorted(seqs), "by": actor.username},
        )
    return sorted(seqs)


def _restrict(*, actor, performer, target, kind: str, seconds: int | None, reason: str, ip: str = "") -> ChatBan:
    room = _room(performer) if performer is not None else None
    expires = timezone.now() + datetime.timedelta(seconds=seconds) if seconds else None
    with transaction.atomic():
        ban = ChatBan.objects.create(
            performer=performer, user=target, kind=kind, reason=reason[:200], created_by=actor, expires_at=expires
        )
        details = {"seconds": seconds, "reason": reason}
        if performer is not None:
            _log(actor=actor, performer=performer, action=f"user_{kind}", target_user=target, details=details, ip=ip)
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
    _require_moderator(actor, performer)
    _check_target(actor, performer, target)
    if not 1 <= seconds <= 7 * 86400:
        raise ChatError("invalid", "A timeout lasts from 1 second to 7 days.")
    return _restrict(
        actor=actor,
        performer=performer,
        target=target,
        kind=ChatBan.Kind.TIMEOUT,
        seconds=seconds,
        reason=reason,
        ip=ip,
    )


def ban_user(*, actor, performer, target, reason: str = "", ip: str = "") -> ChatBan:
    _require_moderator(actor, performer)
    _check_target(actor, performer, target)
    return _restrict(
        actor=actor, performer=performer, target=target, kind=ChatBan.Kind.BAN, seconds=None, reason=reason, ip=ip
    )


def lift_restrictions(*, actor, performer, target, ip: str = "") -> int:
    _require_moderator(actor, performer)
    with transaction.atomic():
        lifted = ChatBan.objects.filter(performer=performer, user=target, lifted_at__isnull=True).update(
            lifted_at=timezone.now()
        )
        _log(
            actor=actor,
            performer=performer,
            action="user_unbanned",
            target_user=target,
            details={"lifted": lifted},
            ip=ip,
        )
        send_room_event(
            _room(performer), "moderation", {"action": "unban", "user": target.username, "by": actor.username}
        )
    return lifted


def site_ban(*, actor, target, reason: str, ip: str = "") -> ChatBan:
    if not (actor and actor.is_authenticated and actor.is_staff):
        raise ChatError("forbidden", "Only staff can ban site-wide.", 403)
    if target.is_staff:
        raise ChatError("forbidden", "Staff accounts cannot be banned here.", 403)
    return _restrict(
        actor=actor, performer=None, target=target, kind=ChatBan.Kind.BAN, seconds=None, reason=reason, ip=ip
    )


def set_slow_mode(*, actor, performer, seconds: int, ip: str = "") -> None:
    _require_moderator(actor, performer)
    if not 0 <= seconds <= 3600:
        raise ChatError("invalid", "Slow mode is 0 (off) to 3600 seconds.")
    with transaction.atomic():
        Performer.objects.filter(pk=performer.pk).update(chat_slow_mode_seconds=seconds)
        performer.chat_slow_mode_seconds = seconds
        _log(actor=actor, performer=performer, action="slow_mode", details={"seconds": seconds}, ip=ip)
        send_room_event(
            _room(performer),
            "moderation",
            {"action": "slow_mode", "seconds": seconds, "automatic": False, "by": actor.username},
        )


def review_held(*, actor, performer, held_id: int, approve: bool, ip: str = "") -> int | None:
    """Publish (approve) or reject a held message; returns its event id."""
    _require_moderator(actor, performer)
    room = _room(performer)
    with transaction.atomic():
        held = (
            ChatMessage.objects.select_for_update()
            .filter(pk=held_id, performer=performer, state=ChatMessage.State.HELD)
            .first()
        )
        if held is None:
            raise ChatError("not_found", "No such held message (already reviewed?).", 404)
        _log(
            actor=actor,
            performer=performer,
            action="held_approved" if approve else "held_rejected",
            target_user=held.author,
            details={"held_id": held_id},
            ip=ip,
        )
        if not approve:
            ChatMessage.objects.filter(pk=held_id).update(state=ChatMessage.State.REJECTED)
            return None
        # The row is locked, so it is published once; it takes its id now.
        event = protocol.message_event(
            username=held.author_name, role=held.author_role, text=held.text, created_at=held.created_at
        )
        seq = realtime.publish_room_event(room, event)
        ChatMessage.objects.filter(pk=held_id).update(state=ChatMessage.State.VISIBLE, seq=seq)
    return seq


def update_room_rules(
    *, actor, performer, blocked_words=None, regex_rules=None, secret_words=None, overrides=None, ip: str = ""
) -> ChatRoomRules:
    _require_moderator(actor, performer)
    for rule in regex_rules or []:
        try:
            moderation.compile_rule(rule["pattern"])
        except Exception:
            raise ChatError("invalid", f"Not a valid pattern: {rule.get('pattern')!r}")
    unknown = set(overrides or {}) - set(moderation.room_config(None))
    if unknown:
        raise ChatError("invalid", f"Unknown settings: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        rules, _ = ChatRoomRules.objects.select_for_update().get_or_create(performer=performer)
        if blocked_words is not None:
            rules.blocked_words = [w.strip() for w in blocked_words if w.strip()]
        if regex_rules is not None:
            rules.regex_rules = regex_rules
        if secret_words is not None:
            rules.secret_words = [w.strip() for w in secret_words if w.strip()]
        if overrides is not None:
            rules.overrides = overrides
        rules.save()
        # The secret words themselves stay out of the log.
        _log(
            actor=actor,
            performer=performer,
            action="rules_updated",
            details={
                "blocked_words": len(rules.blocked_words),
                "regex_rules": len(rules.regex_rules),
                "secret_words": len(rules.secret_words),
                "overrides": sorted(rules.overrides),
            },
            ip=ip,
        )
    return rules

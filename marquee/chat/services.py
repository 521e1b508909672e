"""Every chat write: posting through the moderation pipeline, and the
moderator tools.  Moderator actions run in one transaction with their audit
row and log entry; their events leave on commit."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from marquee.chat import bans, moderation, protocol, selectors, store
from marquee.chat.actions import ChatError, log_action, require_moderator, room_name
from marquee.chat.models import ChatBan, ChatMessage, ChatRoomRules
from marquee.lib import domain_events, realtime
from marquee.lib.events import send_room_event
from marquee.performers.models import Performer


@dataclass(frozen=True)
class PostResult:
    status: str  # "sent", "held" or "refused"
    code: str = ""
    message: str = ""
    event_id: int | None = None


# --- Posting ---------------------------------------------------------------------------


def post_message(*, user, performer, text: str, role: str, is_moderator: bool, audience: str = "") -> PostResult:
    """Run the pipeline; publish once to the room, store in the next batch.
    The hot path writes nothing to the database.  ``audience``: said in a
    private or group show (the caller asks ``access`` which one runs), so
    only those in it get it."""
    restriction = selectors.active_restriction(user, performer)
    if restriction is not None:
        if restriction.kind == ChatBan.Kind.BAN:
            return PostResult("refused", "banned", "You are banned from this chat.")
        remaining = max(1, int((restriction.expires_at - timezone.now()).total_seconds()))
        return PostResult("refused", "timed_out", f"You are timed out for {remaining} more seconds.")
    room = room_name(performer)
    rules, manual_slow = selectors.posting_rules(performer)
    ctx = moderation.Context(
        user=user,
        room=room,
        text=text,
        is_moderator=is_moderator,
        config=moderation.room_config(rules),
        blocked_words=rules.blocked_words if rules else [],
        regex_rules=rules.regex_rules if rules else [],
        secret_words=rules.secret_words if rules else [],
        slow_mode_seconds=max(manual_slow, cache.get(f"chat:auto-slow:{room}") or 0),
    )
    verdict = moderation.run(ctx)
    now = timezone.now()
    if verdict.action == moderation.REFUSE:
        if verdict.timeout_seconds:
            bans.restrict(
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
            audience=audience,
        )
        realtime.publish_moderator_event(room, {"type": "review", "action": "held", **_held_payload(held)})
        return PostResult("held", verdict.code, verdict.message)
    event = protocol.message_event(username=user.username, role=role, text=ctx.text, created_at=now, audience=audience)
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
            audience=audience,
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
    require_moderator(actor, performer)
    room = room_name(performer)
    known = ChatMessage.objects.filter(performer=performer, seq=message_id).exists()
    if not known and message_id not in _recent_message_ids(room):
        raise ChatError("not_found", "No such message.", 404)
    with transaction.atomic():
        _mark_deleted(performer, {message_id})
        log_action(
            actor=actor, performer=performer, action="message_deleted", details={"message_id": message_id}, ip=ip
        )
        send_room_event(room, "moderation", {"action": "deleted", "message_ids": [message_id], "by": actor.username})


def clear_user_messages(*, actor, performer, target, ip: str = "", hours: int = 1) -> list[int]:
    """Delete a user's recent messages (last hour) for everyone."""
    require_moderator(actor, performer)
    room = room_name(performer)
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
        log_action(
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


def set_slow_mode(*, actor, performer, seconds: int, ip: str = "") -> None:
    require_moderator(actor, performer)
    if not 0 <= seconds <= 3600:
        raise ChatError("invalid", "Slow mode is 0 (off) to 3600 seconds.")
    with transaction.atomic():
        Performer.objects.filter(pk=performer.pk).update(chat_slow_mode_seconds=seconds)
        performer.chat_slow_mode_seconds = seconds
        log_action(actor=actor, performer=performer, action="slow_mode", details={"seconds": seconds}, ip=ip)
        send_room_event(
            room_name(performer),
            "moderation",
            {"action": "slow_mode", "seconds": seconds, "automatic": False, "by": actor.username},
        )


def review_held(*, actor, performer, held_id: int, approve: bool, ip: str = "") -> int | None:
    """Publish (approve) or reject a held message; returns its event id."""
    require_moderator(actor, performer)
    room = room_name(performer)
    with transaction.atomic():
        held = (
            ChatMessage.objects.select_for_update()
            .filter(pk=held_id, performer=performer, state=ChatMessage.State.HELD)
            .first()
        )
        if held is None:
            raise ChatError("not_found", "No such held message (already reviewed?).", 404)
        log_action(
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
            username=held.author_name,
            role=held.author_role,
            text=held.text,
            created_at=held.created_at,
            audience=held.audience,
        )
        seq = realtime.publish_room_event(room, event)
        ChatMessage.objects.filter(pk=held_id).update(state=ChatMessage.State.VISIBLE, seq=seq)
    return seq


def update_room_rules(
    *, actor, performer, blocked_words=None, regex_rules=None, secret_words=None, overrides=None, ip: str = ""
) -> ChatRoomRules:
    require_moderator(actor, performer)
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
        log_action(
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

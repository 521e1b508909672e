"""Shapes of the events on the wire (docs/chat-protocol.md) and the join snapshot."""

from __future__ import annotations

import json

from asgiref.sync import sync_to_async
from django.conf import settings

from marquee.lib.realtime import dumps

# Close codes (documented in docs/chat-protocol.md).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_SLOW = 4408
CLOSE_TOO_MANY = 4429
CLOSE_TOO_LARGE = 1009  # RFC 6455 "message too big", as the server sends it

# Event types a fresh join shows from history (the rest is live-only state).
SNAPSHOT_TYPES = {"message", "tip", "goal_reached", "show_started", "show_ended"}


def message_event(*, username: str, role: str, text: str, created_at, audience: str = "") -> dict:
    event = {
        "type": "message",
        "user": username,
        "role": role,
        "text": text,
        "ts": created_at.isoformat(),
    }
    if audience:
        event["audience"] = audience  # said in a private or group show: see ``reaches``
    return event


def message_from_row(row) -> dict:
    event = message_event(
        username=row.author_name, role=row.author_role, text=row.text, created_at=row.created_at, audience=row.audience
    )
    return {"id": row.seq, **event}


# How an event said in a private or group show carries its audience on the
# wire.  User text is JSON-escaped, so it can never contain this (a quote in
# it is always preceded by a backslash): a substring test is exact.
AUDIENCE_MARK = '"audience":'


def audience_of(raw: str) -> str:
    """The audience of a raw room event ("" for the public chat)."""
    if AUDIENCE_MARK not in raw:
        return ""
    return json.loads(raw).get("audience") or ""


def reaches(raw: str, audience: str | None) -> bool:
    """May a socket reading ``audience`` (None: only the public chat) get this event?"""
    scope = audience_of(raw)
    return not scope or scope == audience


def for_reader(events: list[str], audience: str | None) -> list[str]:
    """The events (history, replay) a socket reading ``audience`` may get."""
    return [raw for raw in events if reaches(raw, audience)]


def error_event(code: str, message: str, **extra) -> dict:
    return {"type": "error", "code": code, "message": message, **extra}


def _deleted_ids(events: list[dict]) -> set[int]:
    deleted: set[int] = set()
    for event in events:
        if event.get("type") == "moderation":
            deleted.update(event.get("message_ids") or ())
    return deleted


def replay_after(ring: list[tuple[int, str]], after: int) -> list[str]:
    """The raw events after id ``after`` for a resume, minus messages that a
    later deletion or clear removed: a deleted message is never replayed.
    Only moderation events are parsed (a delete always follows its message,
    so the ring holds it whenever it holds the message)."""
    deleted: set[int] = set()
    for _, raw in ring:
        if _MODERATION_MARK in raw:
            event = json.loads(raw)
            if event.get("type") == "moderation":
                deleted.update(event.get("message_ids") or ())
    return [raw for seq, raw in ring if seq > after and seq not in deleted]


# How a moderation event starts on the wire (realtime.with_id): a cheap pre-filter.
_MODERATION_MARK = ',"type":"moderation"'


async def join_snapshot(room: str, ring: list[tuple[int, str]]) -> list[str]:
    """The last N visible messages (and tips, show and goal events) as raw
    event strings, oldest first: from the room's recent history, topped up
    from the database when the history is short."""
    limit = settings.CHAT_JOIN_MESSAGES
    parsed = [json.loads(raw) for _, raw in ring]
    deleted = _deleted_ids(parsed)
    keep = [
        raw
        for (seq, raw), event in zip(ring, parsed, strict=True)
        if event.get("type") in SNAPSHOT_TYPES and seq not in deleted
    ][-limit:]
    first = ring[0][0] if ring else None
    if len(keep) < limit and (first is None or first > 1):
        older = await sync_to_async(_older_messages)(room, first, limit - len(keep), deleted)
        keep = older + keep
    return keep


def _older_messages(room: str, before: int | None, limit: int, deleted: set[int]) -> list[str]:
    from marquee.chat import selectors

    rows = selectors.visible_messages(room, before=before, limit=limit)
    return [dumps(message_from_row(row)) for row in rows if row.seq not in deleted]

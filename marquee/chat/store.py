"""Chat messages reach the database in batches, after they went out live.

The room's history in Redis (or memory) serves resume and joins; the rows
serve paging back and moderation.  A moderator acting on a message that is
still in a buffer writes a tombstone row first; the batch insert ignores
conflicts, so the tombstone wins in every process.
"""

from __future__ import annotations

import threading

from marquee.chat.models import ChatMessage

_lock = threading.Lock()
_pending: list[ChatMessage] = []
_flush_lock = threading.Lock()


def enqueue(message: ChatMessage) -> None:
    with _lock:
        _pending.append(message)


def pending_count() -> int:
    return len(_pending)


def pending_for(performer_id: int, author_id: int) -> list[ChatMessage]:
    with _lock:
        return [m for m in _pending if m.performer_id == performer_id and m.author_id == author_id]


def flush() -> int:
    with _flush_lock:
        with _lock:
            batch = list(_pending)
            _pending.clear()
        if batch:
            ChatMessage.objects.bulk_create(batch, ignore_conflicts=True, batch_size=500)
        return len(batch)


def discard() -> None:
    """Tests: forget unsaved messages of a previous test."""
    with _lock:
        _pending.clear()

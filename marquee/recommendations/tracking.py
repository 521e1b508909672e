"""Cheap, buffered recording of implicit feedback.

``record()`` costs one Redis RPUSH (production) or one in-memory append
(embedded set-up); the worker writes batches to the database.  Called inside
a transaction, the event is buffered only if that transaction commits.
"""

from __future__ import annotations

import atexit
import json
import threading
import time
from functools import cache

from celery import signature
from django.conf import settings
from django.db import transaction

from marquee.recommendations.models import Interaction

KINDS = frozenset(Interaction.Kind.values)
STORE_TASK = "marquee.recommendations.tasks.store_interactions"


def record(*, user_id: int, performer_id: int, kind: str, weight: float | None = None) -> None:
    """``weight``: seconds for watch, tokens for tip, messages for chat; 1 if None."""
    if kind not in KINDS:
        raise ValueError(f"Unknown interaction kind {kind!r}; expected one of {sorted(KINDS)}.")
    amount = 1 if weight is None else round(weight)
    if amount <= 0 or not user_id or not performer_id:
        return
    event = (int(user_id), int(performer_id), kind, int(amount), time.time())
    # robust: a buffer outage is logged, never turned into a failed request.
    transaction.on_commit(lambda: _buffer().push(event), robust=True)


def discard() -> None:
    """Drops what is buffered without writing it (test isolation)."""
    _buffer().discard()


def flush() -> int:
    """Writes everything buffered now (tests, shutdown, the worker's beat task)."""
    return _buffer().flush_now()


class _LocalBuffer:
    """Embedded set-up: web and worker share no memory, so the web process
    hands full (or old) batches to the worker as one task."""

    def __init__(self):
        self.lock = threading.Lock()
        self.events: list[tuple] = []
        self.oldest = 0.0

    def push(self, event) -> None:
        with self.lock:
            if not self.events:
                self.oldest = time.monotonic()
            self.events.append(event)
            due = (
                len(self.events) >= settings.RECS_FLUSH_BATCH
                or time.monotonic() - self.oldest >= settings.RECS_FLUSH_SECONDS
            )
            batch = self._take() if due else None
        if batch:
            # By name: the worker's task module imports this one.
            signature(STORE_TASK, args=(batch,)).delay()

    def _take(self) -> list[tuple]:
        batch, self.events = self.events, []
        return batch

    def flush_now(self) -> int:
        from marquee.recommendations.services import store_interactions

        with self.lock:
            batch = self._take()
        return store_interactions(events=batch) if batch else 0

    def discard(self) -> None:
        with self.lock:
            self._take()


class _RedisBuffer:
    def __init__(self, url: str, key: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2)
        self.key = key

    def push(self, event) -> None:
        self.client.rpush(self.key, json.dumps(event))

    def drain(self, size: int = 5000) -> list[tuple]:
        with self.client.pipeline(transaction=True) as pipe:
            pipe.lrange(self.key, 0, size - 1)
            pipe.ltrim(self.key, size, -1)
            raw, _ = pipe.execute()
        return [tuple(json.loads(item)) for item in raw]

    def discard(self) -> None:
        self.client.delete(self.key)

    def flush_now(self) -> int:
        from marquee.recommendations.services import store_interactions

        written = 0
        while batch := self.drain():
            written += store_interactions(events=batch)
        return written


@cache
def _buffer() -> _LocalBuffer | _RedisBuffer:
    if settings.REDIS_URL:
        return _RedisBuffer(settings.REDIS_URL, settings.RECS_BUFFER_KEY)
    buffer = _LocalBuffer()
    atexit.register(buffer.flush_now)
    return buffer

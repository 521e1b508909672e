"""Cheap, buffered recording of implicit feedback.

``record()`` costs one in-memory append; the worker writes batches to the
database.  Called inside a transaction, the event is buffered only if that
transaction commits.

With Redis (production) each process collects its events and sends them to
the shared Redis list in one RPUSH when ``PUSH_BATCH`` are waiting or the
oldest has waited ``PUSH_SECONDS`` (a timer sends them even if the process
goes quiet; exit sends the rest): one round trip per batch instead of one
per tip, chat line or heartbeat (it was ~20 % of a tip's time).  What a
crash of a process (kill -9, out of memory) can lose: the events it had not
sent yet, at most ``PUSH_SECONDS`` or ``PUSH_BATCH`` of them.  That is
acceptable for this data only: interactions are implicit feedback that ranks
recommendations statistically; they move no money and prove nothing (the
tip, follow or purchase itself is in the database, written by its own
transaction), and a Redis outage already drops them (``robust`` hooks).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
from functools import cache

from celery import signature
from django.conf import settings
from django.db import transaction

from marquee.recommendations.models import Interaction

logger = logging.getLogger(__name__)

KINDS = frozenset(Interaction.Kind.values)
STORE_TASK = "marquee.recommendations.tasks.store_interactions"
# A process sends its collected events to Redis when this many wait, or when
# the oldest has waited this long (the most a crashed process can lose).
PUSH_BATCH = 100
PUSH_SECONDS = 1.0


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
    """The Redis list the worker drains, fed in batches by each process."""

    def __init__(self, url: str, key: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2)
        self.key = key
        self.lock = threading.Lock()
        self.pending: list[str] = []
        self.pid = os.getpid()
        self.timer: threading.Timer | None = None

    def push(self, event) -> None:
        raw = json.dumps(event)
        with self.lock:
            if self.pid != os.getpid():
                # A forked child: what is pending is the parent's to send.
                self.pid, self.pending, self.timer = os.getpid(), [], None
            self.pending.append(raw)
            if len(self.pending) >= PUSH_BATCH:
                batch = self._take()
            else:
                batch = None
                if self.timer is None:
                    self.timer = threading.Timer(PUSH_SECONDS, self.send_pending)
                    self.timer.daemon = True
                    self.timer.start()
        if batch:
            self.client.rpush(self.key, *batch)

    def _take(self) -> list[str]:
        batch, self.pending = self.pending, []
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        return batch

    def send_pending(self) -> None:
        """This process's collected events to Redis now (timer, exit, flush)."""
        with self.lock:
            batch = self._take() if self.pid == os.getpid() else []
        if batch:
            try:
                self.client.rpush(self.key, *batch)
            except Exception:
                # A timer thread or exit has no caller to tell: the events are
                # lost, as with an outage at record time.
                logger.exception("recommendation events lost: %d", len(batch))

    def drain(self, size: int = 5000) -> list[tuple]:
        with self.client.pipeline(transaction=True) as pipe:
            pipe.lrange(self.key, 0, size - 1)
            pipe.ltrim(self.key, size, -1)
            raw, _ = pipe.execute()
        return [tuple(json.loads(item)) for item in raw]

    def discard(self) -> None:
        with self.lock:
            self._take()
        self.client.delete(self.key)

    def flush_now(self) -> int:
        from marquee.recommendations.services import store_interactions

        self.send_pending()
        written = 0
        while batch := self.drain():
            written += store_interactions(events=batch)
        return written


@cache
def _buffer() -> _LocalBuffer | _RedisBuffer:
    if settings.REDIS_URL:
        buffer = _RedisBuffer(settings.REDIS_URL, settings.RECS_BUFFER_KEY)
        atexit.register(buffer.send_pending)
        return buffer
    buffer = _LocalBuffer()
    atexit.register(buffer.flush_now)
    return buffer

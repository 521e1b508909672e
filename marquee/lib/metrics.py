"""Process-level Prometheus metrics: the objects every layer may increment.

Counters on hot paths (the chat hub delivers tens of thousands of events a
second) are plain ints on ``chat_stats``, incremented on the event loop with
no lock; ``sync_chat()`` moves their deltas into the Prometheus counters at
scrape time and, with several worker processes, every few seconds (see
``marquee.ops``).  With ``PROMETHEUS_MULTIPROC_DIR`` set, prometheus-client
keeps these in per-process files that ``/metrics`` sums (multiprocess mode).
"""

from __future__ import annotations

import threading

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter("marquee_http_requests_total", "HTTP requests by route, method and status.",
                        ["route", "method", "status"])  # fmt: skip
HTTP_LATENCY = Histogram(
    "marquee_http_request_duration_seconds",
    "HTTP request latency by route.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
WEBHOOKS = Counter("marquee_webhooks_total", "Webhook requests by provider and result.", ["provider", "result"])
CHAT_DELIVERIES = Counter("marquee_chat_deliveries_total", "Chat events delivered to local sockets.")
CHAT_DROPS = Counter("marquee_chat_dropped_frames_total", "Frames dropped from a slow socket's full buffer.")
CHAT_SLOW_DISCONNECTS = Counter("marquee_chat_slow_disconnects_total", "Sockets closed for being too slow (4408).")
CHAT_SOCKETS = Gauge("marquee_chat_sockets", "Live chat sockets.", multiprocess_mode="livesum")
CELERY_TASKS = Counter("marquee_celery_tasks_total", "Celery task runs by task and state.", ["task", "state"])


class ChatStats:
    """Written only by the chat hub's event loop thread; read by ``sync_chat``."""

    __slots__ = ("deliveries", "drops", "slow_disconnects")

    def __init__(self):
        self.deliveries = 0
        self.drops = 0
        self.slow_disconnects = 0


chat_stats = ChatStats()
_synced = ChatStats()
_sync_lock = threading.Lock()  # scrape and the flusher thread; never the hub


def sync_chat(sockets: int | None = None) -> None:
    """Move the hub's counts into the Prometheus counters (``sockets``: the
    live sockets counted by the caller, which may read the chat hub)."""
    with _sync_lock:
        for name, counter in (
            ("deliveries", CHAT_DELIVERIES),
            ("drops", CHAT_DROPS),
            ("slow_disconnects", CHAT_SLOW_DISCONNECTS),
        ):
            now = getattr(chat_stats, name)
            delta = now - getattr(_synced, name)
            if delta > 0:
                counter.inc(delta)
            setattr(_synced, name, now)
        if sockets is not None:
            CHAT_SOCKETS.set(sockets)

"""``/metrics``: process counters (``marquee.lib.metrics``) plus figures read
from the database and the broker at scrape time, which are the same whatever
process answers."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from django.conf import settings
from django.db.models import Count
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY

from marquee.lib import metrics

logger = logging.getLogger(__name__)


def local_chat_sockets() -> int:
    from marquee.chat.hub import live_hubs

    for _ in range(3):  # the hub's loop may change a dict while we count
        try:
            return sum(len(state.live) for hub in live_hubs() for state in list(hub.rooms.values()))
        except RuntimeError:
            continue
    return 0


def flush_chat_forever(interval: float = 5.0) -> None:
    while True:
        time.sleep(interval)
        try:
            metrics.sync_chat(local_chat_sockets())
        except Exception:
            logger.exception("metrics: chat flush failed")


def celery_queue_depth() -> int | None:
    """Messages waiting in the default queue; None when the broker can't say."""
    url = settings.CELERY_BROKER_URL or ""
    if url.startswith(("redis://", "rediss://")):
        import redis

        client = redis.Redis.from_url(url, socket_timeout=2)
        try:
            return int(client.llen("celery"))
        finally:
            client.close()
    if url.startswith("filesystem://"):
        folder = Path(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}).get("data_folder_in", ""))
        return sum(1 for p in folder.iterdir() if p.is_file()) if folder.is_dir() else 0
    return None


class DatabaseCollector:
    """Gauges computed on each scrape (a few indexed counts)."""

    def collect(self):
        from marquee.billing.models import WebhookEvent
        from marquee.ledger.models import Hold, Transfer, TransferKind
        from marquee.ops.models import IntegrityCheck
        from marquee.privates.models import PrivateShow
        from marquee.shows.models import Show

        live = GaugeMetricFamily("marquee_live_shows", "Shows live now.")
        live.add_metric([], Show.objects.filter(status=Show.Status.LIVE).count())
        yield live

        holds = GaugeMetricFamily("marquee_ledger_holds", "Ledger holds by status.", labels=["status"])
        by_status = dict(Hold.objects.values_list("status").annotate(n=Count("id")))
        for status in Hold.Status.values:
            holds.add_metric([status], by_status.get(status, 0))
        yield holds

        privates = GaugeMetricFamily("marquee_private_shows", "Private shows by status.", labels=["status"])
        by_status = dict(PrivateShow.objects.values_list("status").annotate(n=Count("id")))
        for status in PrivateShow.Status.values:
            privates.add_metric([status], by_status.get(status, 0))
        yield privates

        ticks = GaugeMetricFamily(
            "marquee_private_billing_periods", "Private-show billing periods posted (ledger transfers)."
        )
        ticks.add_metric([], Transfer.objects.filter(kind=TransferKind.PRIVATE).count())
        yield ticks

        events = GaugeMetricFamily(
            "marquee_webhook_events_applied", "Provider events recorded (unique), by provider.", labels=["provider"]
        )
        for provider, n in WebhookEvent.objects.values_list("provider").annotate(n=Count("id")):
            events.add_metric([provider], n)
        yield events

        ok = GaugeMetricFamily("marquee_integrity_ok", "1 if the last check passed, 0 if it failed.", labels=["check"])
        age = GaugeMetricFamily("marquee_integrity_checked_timestamp_seconds", "When each check last ran.",
                                labels=["check"])  # fmt: skip
        for check in IntegrityCheck.objects.all():
            ok.add_metric([check.name], 1 if check.ok else 0)
            age.add_metric([check.name], check.checked_at.timestamp())
        yield ok
        yield age

        try:
            depth = celery_queue_depth()
        except Exception as exc:  # the broker down is itself a reading, not a 500
            logger.warning("metrics: celery queue depth unavailable: %s", exc.__class__.__name__)
            depth = None
        if depth is not None:
            queue = GaugeMetricFamily("marquee_celery_queue_depth", "Messages waiting in the default queue.")
            queue.add_metric([], depth)
            yield queue


def render() -> bytes:
    metrics.sync_chat(local_chat_sockets())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        process = CollectorRegistry()
        MultiProcessCollector(process)  # sums every worker's files
    else:
        process = REGISTRY
    database = CollectorRegistry()
    database.register(DatabaseCollector())
    return generate_latest(process) + generate_latest(database)

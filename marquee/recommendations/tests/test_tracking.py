from __future__ import annotations

import pytest
from django.conf import settings
from django.db import transaction

from marquee.performers import services as performer_services
from marquee.recommendations import tasks, tracking
from marquee.recommendations.models import Interaction


@pytest.mark.django_db(transaction=True)
def test_recorded_events_reach_the_database_in_a_batch(viewer, performer):
    tracking.record(user_id=viewer.pk, performer_id=performer.pk, kind="watch", weight=95.4)
    tracking.record(user_id=viewer.pk, performer_id=performer.pk, kind="tip", weight=25)
    tracking.record(user_id=viewer.pk, performer_id=performer.pk, kind="chat")
    assert tracking.flush() == 3
    rows = sorted(Interaction.objects.values_list("user_id", "performer_id", "kind", "amount"))
    assert rows == [
        (viewer.pk, performer.pk, "chat", 1),
        (viewer.pk, performer.pk, "tip", 25),
        (viewer.pk, performer.pk, "watch", 95),
    ]
    assert tracking.flush() == 0


@pytest.mark.django_db(transaction=True)
def test_events_of_a_rolled_back_transaction_are_dropped(viewer, performer):
    with pytest.raises(RuntimeError), transaction.atomic():
        tracking.record(user_id=viewer.pk, performer_id=performer.pk, kind="follow")
        raise RuntimeError("rolled back")
    assert tracking.flush() == 0
    assert not Interaction.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_follow_service_records_a_follow(viewer, performer):
    assert performer_services.follow_performer(user=viewer, performer=performer)
    assert not performer_services.follow_performer(user=viewer, performer=performer)  # repeat: no second event
    tracking.flush()
    assert list(Interaction.objects.values_list("user_id", "performer_id", "kind")) == [
        (viewer.pk, performer.pk, "follow")
    ]


@pytest.mark.django_db(transaction=True)
def test_zero_weights_and_deleted_users_are_ignored(viewer, outsider, performer):
    tracking.record(user_id=viewer.pk, performer_id=performer.pk, kind="watch", weight=0)
    tracking.record(user_id=outsider.pk, performer_id=performer.pk, kind="watch", weight=30)
    outsider.delete()
    assert tracking.flush() == 0
    assert not Interaction.objects.exists()


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="Unknown interaction kind"):
        tracking.record(user_id=1, performer_id=1, kind="like")


@pytest.mark.django_db(transaction=True)
def test_worker_beat_task_writes_buffered_events(viewer, performer):
    tracking.record(user_id=viewer.pk, performer_id=performer.pk, kind="ticket")
    tracking.record(user_id=viewer.pk, performer_id=performer.pk, kind="subscription")
    tasks.flush_interactions()
    assert sorted(Interaction.objects.values_list("kind", flat=True)) == ["subscription", "ticket"]


@pytest.mark.django_db(transaction=True)
def test_in_process_buffer_hands_a_full_batch_to_the_worker(settings, viewer, performer):
    settings.RECS_FLUSH_BATCH = 2
    buffer = tracking._LocalBuffer()
    buffer.push((viewer.pk, performer.pk, "chat", 1, 1_700_000_000.0))
    assert not Interaction.objects.exists()
    buffer.push((viewer.pk, performer.pk, "chat", 1, 1_700_000_001.0))
    assert Interaction.objects.count() == 2  # eager Celery in tests: the batch task ran


@pytest.mark.django_db(transaction=True)
def test_watch_heartbeats_count_capped_seconds_between_refreshes(viewer, performer):
    from marquee.shows.services import WATCH_HEARTBEAT_CAP_SECONDS, record_watch_heartbeat

    assert record_watch_heartbeat(user=viewer, performer=performer, now=1000.0) == 0  # first one only starts the clock
    assert record_watch_heartbeat(user=viewer, performer=performer, now=1025.0) == 25
    assert record_watch_heartbeat(user=viewer, performer=performer, now=1025.0 + 3600) == WATCH_HEARTBEAT_CAP_SECONDS
    assert record_watch_heartbeat(user=performer.user, performer=performer, now=1000.0) == 0  # own room
    tracking.flush()
    assert sorted(Interaction.objects.values_list("user_id", "kind", "amount")) == [
        (viewer.pk, "watch", 25),
        (viewer.pk, "watch", WATCH_HEARTBEAT_CAP_SECONDS),
    ]


@pytest.mark.django_db(transaction=True)
def test_tips_and_tickets_are_tracked(viewer, performer, settings):
    from marquee.billing import services as billing
    from marquee.billing.models import Product
    from marquee.lib.geo import UNKNOWN
    from tests.factories import PurchaseFactory, ShowFactory
    from tests.support.compliance import approve_age

    settings.SANDBOX_ENABLED = True
    settings.SANDBOX_WEBHOOK_SECRET = "test-secret"
    approve_age(viewer)
    show = ShowFactory(performer=performer, kind="premium", price_cents=500)
    ticket = PurchaseFactory(user=viewer, product=Product.TICKET, show=show, performer=performer, amount_cents=500)
    tokens = PurchaseFactory(user=viewer, product=Product.TOKENS, pack="small", tokens=100, amount_cents=999)
    billing.sandbox_complete_checkout(purchase=tokens, pay=True)
    billing.sandbox_complete_checkout(purchase=ticket, pay=True)
    billing.send_tip(user=viewer, performer=performer, tokens=30, idempotency_key="t1", location=UNKNOWN)
    tracking.flush()
    assert sorted(Interaction.objects.values_list("kind", "amount")) == [("ticket", 1), ("tip", 30)]


@pytest.mark.skipif(not settings.REDIS_URL, reason="the Redis buffer")
@pytest.mark.django_db(transaction=True)
def test_a_process_sends_its_events_to_redis_in_batches(monkeypatch, viewer, performer):
    """One RPUSH per batch, not per event (a tip paid one Redis round trip
    for it): events wait in the process until PUSH_BATCH are there."""
    import redis

    monkeypatch.setattr(tracking, "PUSH_BATCH", 3)
    monkeypatch.setattr(tracking, "PUSH_SECONDS", 60.0)
    buffer = tracking._buffer()
    pushes = []
    real_rpush = buffer.client.rpush
    monkeypatch.setattr(
        buffer.client, "rpush", lambda key, *values: pushes.append(len(values)) or real_rpush(key, *values)
    )
    shared = redis.Redis.from_url(settings.REDIS_URL)
    for _ in range(2):
        tracking.record(user_id=viewer.pk, performer_id=performer.pk, kind="chat")
    assert shared.llen(settings.RECS_BUFFER_KEY) == 0 and pushes == []
    tracking.record(user_id=viewer.pk, performer_id=performer.pk, kind="chat")
    assert shared.llen(settings.RECS_BUFFER_KEY) == 3 and pushes == [3]
    tracking.record(user_id=viewer.pk, performer_id=performer.pk, kind="follow")
    assert tracking.flush() == 4  # the worker's flush in this process sends what waits first
    assert pushes == [3, 1]


@pytest.mark.skipif(not settings.REDIS_URL, reason="the Redis buffer")
@pytest.mark.django_db(transaction=True)
def test_a_quiet_process_still_sends_its_events_within_push_seconds(monkeypatch, viewer, performer):
    import time

    import redis

    monkeypatch.setattr(tracking, "PUSH_SECONDS", 0.2)
    shared = redis.Redis.from_url(settings.REDIS_URL)
    tracking.record(user_id=viewer.pk, performer_id=performer.pk, kind="chat")
    assert shared.llen(settings.RECS_BUFFER_KEY) == 0
    deadline = time.monotonic() + 5
    while shared.llen(settings.RECS_BUFFER_KEY) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert shared.llen(settings.RECS_BUFFER_KEY) == 1
    assert tracking.flush() == 1

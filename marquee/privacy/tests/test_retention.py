"""Retention with a fake clock: exactly what is past its time goes."""

from __future__ import annotations

import datetime

import pytest
from allauth.usersessions.models import UserSession
from django.core.management import call_command

from marquee.audit.models import AuditEvent
from marquee.billing.models import Product, Purchase
from marquee.chat.models import ChatMessage
from marquee.privacy import retention
from marquee.privacy.tests.test_close_account import fund
from marquee.recommendations.models import Interaction
from marquee.schedule.models import Notification

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)
SECOND = datetime.timedelta(seconds=1)


def ago(days: int, nudge=datetime.timedelta(0)):
    return NOW - datetime.timedelta(days=days) + nudge


@pytest.fixture
def retention_settings(settings):
    settings.PRIVACY_SESSION_IP_DAYS = 90
    settings.PRIVACY_CHAT_MESSAGE_DAYS = 180
    settings.PRIVACY_HELD_MESSAGE_DAYS = 30
    settings.PRIVACY_WATCH_HISTORY_DAYS = 365
    settings.PRIVACY_NOTIFICATION_DAYS = 90
    settings.PRIVACY_RECEIPT_DETAIL_DAYS = 400


def test_exactly_what_is_past_its_time_goes(retention_settings, viewer, performer):
    def message(seq, days, nudge, state=ChatMessage.State.VISIBLE):
        return ChatMessage.objects.create(
            performer=performer, seq=seq, author=viewer, author_name="viewer", text=f"m{seq}",
            state=state, created_at=ago(days, nudge),
        )  # fmt: skip

    old_chat, kept_chat = message(1, 180, -SECOND), message(2, 180, SECOND)
    old_held, kept_held = message(3, 30, -SECOND, "held"), message(4, 30, SECOND, "held")
    old_watch = Interaction.objects.create(user=viewer, performer=performer, kind="watch", created_at=ago(365, -SECOND))
    kept_watch = Interaction.objects.create(user=viewer, performer=performer, kind="watch", created_at=ago(365, SECOND))
    old_note = Notification.objects.create(user=viewer, kind="live", text="a")
    kept_note = Notification.objects.create(user=viewer, kind="live", text="b")
    Notification.objects.filter(pk=old_note.pk).update(created_at=ago(90, -SECOND))
    Notification.objects.filter(pk=kept_note.pk).update(created_at=ago(90, SECOND))
    old_session = UserSession.objects.create(
        user=viewer, ip="198.51.100.1", session_key="a" * 32, user_agent="x", last_seen_at=ago(90, -SECOND)
    )
    kept_session = UserSession.objects.create(
        user=viewer, ip="198.51.100.2", session_key="b" * 32, user_agent="x", last_seen_at=ago(90, SECOND)
    )
    old_receipt, kept_receipt = fund(viewer, 100), fund(viewer, 100)
    for purchase, nudge in ((old_receipt, -SECOND), (kept_receipt, SECOND)):
        Purchase.objects.filter(pk=purchase.pk).update(
            created_at=ago(400, nudge), description="Ticket: Performer One live", return_url="/r/performer/"
        )

    counts = retention.enforce(now=NOW)

    def exists(obj):
        return type(obj).objects.filter(pk=obj.pk).exists()

    assert [exists(o) for o in (old_chat, old_held, old_watch, old_note, old_session)] == [False] * 5
    assert [exists(o) for o in (kept_chat, kept_held, kept_watch, kept_note, kept_session)] == [True] * 5
    old_receipt.refresh_from_db()
    kept_receipt.refresh_from_db()
    assert (old_receipt.description, old_receipt.return_url) == (Product.TOKENS.label, "")
    assert old_receipt.amount_cents == 999 and old_receipt.status == Purchase.Status.PAID
    assert (kept_receipt.description, kept_receipt.return_url) == ("Ticket: Performer One live", "/r/performer/")
    assert counts == {
        "sessions": 1, "held_messages": 1, "chat_messages": 1, "watch_history": 1, "notifications": 1, "purchases": 1,
    }  # fmt: skip
    assert AuditEvent.objects.get(action="privacy.retention").details == counts
    call_command("audit_verify")
    call_command("ledger_check")


def test_a_second_run_touches_nothing(retention_settings, viewer):
    purchase = fund(viewer, 100)
    Purchase.objects.filter(pk=purchase.pk).update(created_at=ago(500))
    assert retention.enforce(now=NOW)["purchases"] == 1
    assert set(retention.enforce(now=NOW).values()) == {0}


def test_retention_runs_daily_from_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["privacy-retention"]
    assert entry["task"] == "marquee.privacy.tasks.enforce_retention" and entry["schedule"] == 86400.0
    from celery import current_app

    import marquee.privacy.tasks  # noqa: F401

    assert "marquee.privacy.tasks.enforce_retention" in current_app.tasks

"""Storage limitation: delete or blank exactly what is past its retention
(settings named in ``policy.CATEGORIES``; run daily by the worker)."""

from __future__ import annotations

import datetime
from importlib import import_module

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.db import transaction
from django.db.models import Case, Value, When

from marquee.audit.services import record_audit
from marquee.billing.models import Product, Purchase
from marquee.chat.models import ChatMessage
from marquee.recommendations.models import Interaction
from marquee.schedule.models import Notification


def _before(now: datetime.datetime, setting: str) -> datetime.datetime:
    return now - datetime.timedelta(days=getattr(settings, setting))


def enforce(*, now: datetime.datetime) -> dict[str, int]:
    """Returns how many rows each rule touched (also in the audit row)."""
    with transaction.atomic():
        old_sessions = UserSession.objects.filter(last_seen_at__lt=_before(now, "PRIVACY_SESSION_IP_DAYS"))
        session_keys = list(old_sessions.values_list("session_key", flat=True))
        counts = {
            "sessions": old_sessions.delete()[0],
            "held_messages": ChatMessage.objects.filter(
                state=ChatMessage.State.HELD, created_at__lt=_before(now, "PRIVACY_HELD_MESSAGE_DAYS")
            ).delete()[0],
            "chat_messages": ChatMessage.objects.filter(
                created_at__lt=_before(now, "PRIVACY_CHAT_MESSAGE_DAYS")
            ).delete()[0],
            "watch_history": Interaction.objects.filter(
                created_at__lt=_before(now, "PRIVACY_WATCH_HISTORY_DAYS")
            ).delete()[0],
            "notifications": Notification.objects.filter(
                created_at__lt=_before(now, "PRIVACY_NOTIFICATION_DAYS")
            ).delete()[0],
            # Amounts stay for accounting; what was bought from whom, in words, goes.
            "purchases": Purchase.objects.filter(created_at__lt=_before(now, "PRIVACY_RECEIPT_DETAIL_DAYS"))
            .exclude(description__in=Product.labels, return_url="")
            .update(
                description=Case(*[When(product=v, then=Value(label)) for v, label in Product.choices]),
                return_url="",
            ),
        }
        record_audit(action="privacy.retention", details=counts)
        store = import_module(settings.SESSION_ENGINE).SessionStore
        transaction.on_commit(lambda: [store(session_key=key).delete() for key in session_keys])
    return counts

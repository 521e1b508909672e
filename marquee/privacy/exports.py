"""Reads for "download my data": one list of flat rows per category of
``policy.CATEGORIES`` (a test checks that every category has one)."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.db.models import Q

from marquee.audit.models import AuditEvent
from marquee.billing.models import Payout, Purchase, Subscription, Tip
from marquee.chat.models import ChatMessage
from marquee.compliance.models import AgeVerification, PerformerRecord
from marquee.content.models import MediaSet
from marquee.ledger.models import Entry, Transfer
from marquee.performers.models import Follow, Performer
from marquee.privacy.policy import CATEGORIES
from marquee.recommendations.models import Interaction
from marquee.schedule.models import Notification


def _values(queryset, *fields) -> list[dict]:
    return list(queryset.values(*fields))


def _profile(user, performer):
    return [
        {
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "date_of_birth": user.date_of_birth,
            "timezone": user.timezone,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
        }
    ]


def _chat(user, **filters):
    return _values(
        ChatMessage.objects.filter(author=user, **filters).order_by("created_at"),
        "performer__user__username",
        "text",
        "state",
        "created_at",
    )


def _earnings(user, performer):
    transfers = _values(
        Transfer.objects.filter(performer=performer).order_by("created_at"),
        "kind",
        "performer_cents",
        "gross_cents",
        "source_type",
        "created_at",
        "available_at",
    )
    payouts = _values(Payout.objects.filter(performer=performer), "amount_cents", "status", "created_at", "settled_at")
    return [{"record": "earning", **row} for row in transfers] + [{"record": "payout", **row} for row in payouts]


EXPORTERS = {
    "profile": _profile,
    "sessions": lambda user, p: _values(
        UserSession.objects.filter(user=user), "ip", "user_agent", "created_at", "last_seen_at"
    ),
    "two_factor": lambda user, p: _values(
        Authenticator.objects.filter(user=user), "type", "created_at", "last_used_at"
    ),
    "purchases": lambda user, p: _values(
        Purchase.objects.filter(user=user).order_by("created_at"),
        "reference",
        "product",
        "description",
        "status",
        "amount_cents",
        "currency",
        "tokens",
        "provider",
        "created_at",
        "paid_at",
        "reversed_at",
    ),
    "wallet": lambda user, p: _values(
        Entry.objects.filter(account__user=user).order_by("created_at", "pk"),
        "amount",
        "unit",
        "transfer__kind",
        "created_at",
    ),
    "tips": lambda user, p: _values(
        Tip.objects.filter(user=user).order_by("created_at"),
        "performer__user__username",
        "tokens",
        "message",
        "created_at",
    ),
    "subscriptions": lambda user, p: _values(
        Subscription.objects.filter(user=user),
        "performer__user__username",
        "price_cents",
        "status",
        "current_period_end",
        "created_at",
        "canceled_at",
    ),
    "follows": lambda user, p: _values(Follow.objects.filter(user=user), "performer__user__username", "created_at"),
    "chat_messages": lambda user, p: _chat(user),
    "held_messages": lambda user, p: _chat(user, state=ChatMessage.State.HELD),
    "watch_history": lambda user, p: _values(
        Interaction.objects.filter(user=user).order_by("created_at"),
        "performer__user__username",
        "kind",
        "amount",
        "created_at",
    ),
    "notifications": lambda user, p: _values(
        Notification.objects.filter(user=user), "kind", "text", "url", "created_at"
    ),
    "age_verification": lambda user, p: _values(
        AgeVerification.objects.filter(user=user), "provider", "method", "status", "created_at", "decided_at"
    ),
    "audit_events": lambda user, p: _values(
        AuditEvent.objects.filter(Q(actor=user) | Q(target_type="accounts.user", target_id=str(user.pk))).order_by(
            "pk"
        ),
        "created_at",
        "action",
        "ip",
        "user_agent",
        "target_type",
        "target_id",
        "details",
    ),
    "earnings": lambda user, p: _earnings(user, p) if p else [],
    "content": lambda user, p: (
        _values(
            MediaSet.objects.filter(performer=p), "title", "description", "price_tokens", "is_published", "created_at"
        )
        if p
        else []
    ),
    "performer_records": lambda user, p: (
        _values(
            PerformerRecord.objects.filter(performer=p),
            "legal_name",
            "date_of_birth",
            "status",
            "submitted_at",
            "reviewed_at",
        )
        if p
        else []
    ),
}
assert set(EXPORTERS) == {c.key for c in CATEGORIES}, "every documented category needs an exporter"


def build_archive(user) -> bytes:
    """A ZIP with ``<category>.json`` and ``<category>.csv`` for every category."""
    performer = Performer.objects.filter(user=user).first()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for category in CATEGORIES:
            rows = EXPORTERS[category.key](user, performer)
            archive.writestr(f"{category.key}.json", json.dumps(rows, indent=2, default=str))
            archive.writestr(f"{category.key}.csv", _csv(rows))
    return buffer.getvalue()


def _csv(rows: list[dict]) -> str:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: json.dumps(v, default=str) if isinstance(v, dict | list) else v for k, v in row.items()}
            )
    return out.getvalue()

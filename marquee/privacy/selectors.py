"""Reads of the privacy capability."""

from __future__ import annotations

from django.conf import settings

from marquee.ledger import selectors as ledger_selectors
from marquee.performers.models import Performer
from marquee.privacy.models import DataExport


def closure_summary(user) -> dict:
    """What closing ``user``'s account would do now (shown before they confirm)."""
    performer = Performer.objects.filter(user=user).first()
    return {
        "grace_days": settings.PRIVACY_CLOSURE_GRACE_DAYS,
        "tokens_forfeited": max(ledger_selectors.available_tokens(user), 0),
        "is_performer": performer is not None,
        "earnings_cents": ledger_selectors.performer_balances(performer) if performer is not None else {},
    }


def latest_export(user) -> DataExport | None:
    return DataExport.objects.filter(user=user).order_by("-requested_at", "-pk").first()

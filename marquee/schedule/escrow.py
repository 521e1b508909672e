"""Ticket shows are escrow (issue 13): the money a ticket paid is the
performer's only if the show is delivered.  A premium show whose performer
is not live within ``TICKET_SHOW_NO_SHOW_MINUTES`` of its start is cancelled,
and a show that ends before ``TICKET_SHOW_MIN_SHARE_PERCENT`` of its announced
length is over; either way every ticket is refunded through the one refund
path (``billing.services.refund_show_tickets``: ledger reversal keyed per
purchase, audit, mail; the in-app notification is the schedule's, as for a
cancelled show), so a retried task, a second end or two concurrent sweeps
refund each ticket once.

Triggers: the ``show.ended`` domain event (shows knows nothing of tickets)
settles an ended show at once; the beat task ``settle_ticket_shows`` finds
no-shows and is the safety net for an ended show whose event was lost."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from marquee.audit.services import record_audit
from marquee.billing.models import Product, Purchase
from marquee.billing.services import refund_show_tickets
from marquee.lib.fields import clip
from marquee.performers.models import ShowKind
from marquee.schedule.models import Notification
from marquee.shows.models import Show

logger = logging.getLogger(__name__)

# The sweep re-checks shows ended this recently (the event settles them at
# once; this only covers a lost event or a crashed worker), so its scan stays
# small however many shows have ever ended.
ENDED_LOOKBACK = datetime.timedelta(days=1)
TICKETS = [Product.TICKET, Product.PRIVATE]


def delivered(show: Show) -> bool:
    """Was ``show`` on air for at least the configured share of its announced length?"""
    if show.started_at is None or show.ended_at is None:
        return False
    seconds_on_air = (show.ended_at - show.started_at).total_seconds()
    # Compared in integers-times-100 so 50 % of 45 minutes is exactly 1350 s.
    return seconds_on_air * 100 >= show.expected_minutes * 60 * settings.TICKET_SHOW_MIN_SHARE_PERCENT


def refund_notifier(why: str):
    """The buyer's in-app notification (one per show: the unique row makes a retry a no-op)."""

    def notify(purchase) -> None:
        show = purchase.show
        text = f"“{show.title}” {why}: your ticket (${purchase.amount_cents / 100:.2f}) is refunded."
        Notification.objects.get_or_create(
            user=purchase.user,
            show=show,
            kind=Notification.Kind.SHOW_CANCELLED,
            defaults={"text": clip(text, Notification, "text")},
        )

    return notify


def _refund(show: Show, *, reason: str, why: str) -> int:
    return refund_show_tickets(show=show, reason=reason, why=why, on_refunded=refund_notifier(why))


def _has_paid_tickets(show_pk: int) -> bool:
    return Purchase.objects.filter(show_id=show_pk, product__in=TICKETS, status=Purchase.Status.PAID).exists()


def settle_ended_show(*, show_id: int) -> int:
    """An ended show shorter than its share: refund every ticket still paid.
    Returns how many tickets this call refunded (0 when delivered, not ended,
    or already refunded)."""
    with transaction.atomic():
        # The show row is the lock: a second settle waits, then finds nothing paid.
        show = Show.objects.select_for_update().select_related("performer__user").filter(pk=show_id).first()
        if show is None or show.status != Show.Status.ENDED or delivered(show):
            return 0
        if not _has_paid_tickets(show.pk):
            return 0
        minutes = int((show.ended_at - show.started_at).total_seconds() // 60)
        why = f"ended after {minutes} of its announced {show.expected_minutes} minutes"
        refunded = _refund(show, reason="show_too_short", why=why)
        if refunded:
            record_audit(
                action="show.escrow_refunded",
                target=show,
                details={
                    "reason": "too_short",
                    "tickets_refunded": refunded,
                    "minutes_on_air": minutes,
                    "expected_minutes": show.expected_minutes,
                    "min_share_percent": settings.TICKET_SHOW_MIN_SHARE_PERCENT,
                },
            )
    return refunded


def cancel_no_show(*, show_id: int, now=None) -> int:
    """A premium show still scheduled ``TICKET_SHOW_NO_SHOW_MINUTES`` after its
    start: cancel it and refund every ticket.  Returns how many were refunded;
    0 if it went live or was settled meanwhile."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(minutes=settings.TICKET_SHOW_NO_SHOW_MINUTES)
    with transaction.atomic():
        # Conditional update: going live (which locks the scheduled row) and a
        # concurrent sweep both lose or win as a whole.
        if not Show.objects.filter(
            pk=show_id, status=Show.Status.SCHEDULED, kind=ShowKind.PREMIUM, scheduled_start__lte=cutoff
        ).update(status=Show.Status.CANCELLED):
            return 0
        show = Show.objects.select_related("performer__user").get(pk=show_id)
        refunded = _refund(show, reason="performer_no_show", why="did not start")
        record_audit(
            action="show.escrow_refunded",
            target=show,
            details={
                "reason": "no_show",
                "tickets_refunded": refunded,
                "scheduled_start": show.scheduled_start.isoformat(),
                "no_show_minutes": settings.TICKET_SHOW_NO_SHOW_MINUTES,
            },
        )
    return refunded


def settle_ticket_shows(*, now=None) -> int:
    """Beat: cancel no-shows and settle recently ended short shows, one show
    per transaction.  Returns how many tickets were refunded."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(minutes=settings.TICKET_SHOW_NO_SHOW_MINUTES)
    no_shows = Show.objects.filter(
        status=Show.Status.SCHEDULED, kind=ShowKind.PREMIUM, scheduled_start__lte=cutoff
    ).values_list("pk", flat=True)
    ended = (
        Show.objects.filter(
            status=Show.Status.ENDED,
            ended_at__gte=now - ENDED_LOOKBACK,
            purchases__product__in=TICKETS,
            purchases__status=Purchase.Status.PAID,
        )
        .distinct()
        .values_list("pk", flat=True)
    )
    refunded = 0
    for pk in list(no_shows):
        refunded += cancel_no_show(show_id=pk, now=now)
    for pk in list(ended):
        refunded += settle_ended_show(show_id=pk)
    return refunded

"""Fan-club subscriptions: renewals, past due, end and cancel."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from marquee.audit.services import record_audit
from marquee.billing.errors import BillingError
from marquee.billing.gateways import NormalizedEvent, get_gateway
from marquee.billing.models import Product, Purchase, Subscription
from marquee.billing.services import checkout
from marquee.lib import domain_events

_LIVE = [Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE]


def renew_subscription(*, subscription: Subscription, event: NormalizedEvent) -> str:
    """A renewal payment: book it; extend the period (never backwards); a
    canceled subscription stays canceled whatever arrives late."""
    now = timezone.now()
    period_end = event.period_end or (
        max(subscription.current_period_end, now) + datetime.timedelta(days=settings.SUBSCRIPTION_PERIOD_DAYS)
    )
    with transaction.atomic():
        amount = event.amount_cents if event.amount_cents is not None else subscription.price_cents
        try:
            with transaction.atomic():
                purchase = Purchase.objects.create(
                    user=subscription.user,
                    product=Product.SUBSCRIPTION,
                    provider=subscription.provider,
                    status=Purchase.Status.PAID,
                    paid_at=now,
                    amount_cents=amount,
                    description=f"Fan club: {subscription.performer.display_name} (renewal)",
                    performer=subscription.performer,
                    subscription=subscription,
                    provider_reference=event.payment_reference or event.event_id,
                )
        except IntegrityError:
            return "ignored: renewal already booked"
        checkout._book_purchase(purchase, now)  # the seam tests make fail
        extended = Subscription.objects.filter(pk=subscription.pk, status__in=_LIVE).update(
            status=Subscription.Status.ACTIVE,
            past_due_since=None,
            current_period_end=Greatest(F("current_period_end"), period_end),
        )
        record_audit(
            action="billing.subscription_renewed",
            actor_id=subscription.user_id,
            target=subscription,
            details={"purchase": purchase.pk, "extended": bool(extended)},
        )
        if extended:
            domain_events.send(
                "subscription.extended", user_id=subscription.user_id, performer_id=subscription.performer_id
            )
    return "renewed" if extended else "booked; subscription stays canceled"


def mark_subscription_past_due(*, subscription: Subscription) -> str:
    with transaction.atomic():
        changed = Subscription.objects.filter(pk=subscription.pk, status=Subscription.Status.ACTIVE).update(
            status=Subscription.Status.PAST_DUE, past_due_since=timezone.now()
        )
        if changed:
            record_audit(action="billing.subscription_past_due", actor_id=subscription.user_id, target=subscription)
    return "past_due" if changed else "ignored: not active"


def end_subscription(*, subscription: Subscription, reason: str) -> str:
    """Ended by the provider: no more renewals; access until the period end."""
    with transaction.atomic():
        changed = Subscription.objects.filter(pk=subscription.pk, status__in=_LIVE).update(
            status=Subscription.Status.CANCELED, canceled_at=timezone.now()
        )
        if changed:
            record_audit(
                action="billing.subscription_ended",
                actor_id=subscription.user_id,
                target=subscription,
                details={"reason": reason},
            )
    return "canceled" if changed else "ignored: already canceled"


def cancel_subscription(*, user, subscription: Subscription, request=None) -> Subscription:
    """The viewer cancels: no renewal, access until the end of the paid period."""
    if subscription.user_id != user.pk:
        raise BillingError("not_found", "No such subscription.", 404)
    with transaction.atomic():
        changed = Subscription.objects.filter(pk=subscription.pk, status__in=_LIVE).update(
            status=Subscription.Status.CANCELED, canceled_at=timezone.now()
        )
        if not changed:
            raise BillingError("already_canceled", "This subscription is already canceled.", 409)
        record_audit(action="billing.subscription_canceled", actor=user, request=request, target=subscription)
        provider, provider_id = subscription.provider, subscription.provider_subscription_id
        transaction.on_commit(lambda: get_gateway(provider, require_enabled=False).cancel_subscription(provider_id))
    subscription.refresh_from_db()
    return subscription

"""Reads of what a viewer has paid for, their wallet and history."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from marquee.billing import prices, tip_goals
from marquee.billing.models import Payout, PayoutSettings, Product, Purchase, Subscription, Tip


def has_show_ticket(user, show) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return Purchase.objects.filter(
        user=user, show=show, status=Purchase.Status.PAID, product__in=[Product.TICKET, Product.PRIVATE]
    ).exists()


def active_subscriptions_q(now=None) -> Q:
    """Subscriptions that give access now: active or canceled until the period
    end; past due until the period end plus the grace period."""
    now = now or timezone.now()
    grace = datetime.timedelta(days=settings.SUBSCRIPTION_GRACE_DAYS)
    return Q(status__in=[Subscription.Status.ACTIVE, Subscription.Status.CANCELED], current_period_end__gt=now) | Q(
        status=Subscription.Status.PAST_DUE, current_period_end__gt=now - grace
    )


def has_active_subscription(user, performer) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return Subscription.objects.filter(active_subscriptions_q(), user=user, performer=performer).exists()


def purchases_for(user):
    return (
        Purchase.objects.filter(user=user)
        .exclude(status=Purchase.Status.PENDING)
        .select_related("performer__user", "show")
    )


def access_purchase(user, reference) -> Purchase | None:
    """The buyer's own purchase (staff may see any); None for anyone else."""
    if user is None or not user.is_authenticated:
        return None
    rows = Purchase.objects.select_related("performer__user", "show", "user")
    if not user.is_staff:
        rows = rows.filter(user=user)
    return rows.filter(reference=reference).first()


def subscriptions_for(user):
    return Subscription.objects.filter(user=user).select_related("performer__user")


def access_subscription(user, pk) -> Subscription | None:
    if user is None or not user.is_authenticated:
        return None
    return Subscription.objects.filter(user=user, pk=pk).select_related("performer__user").first()


def recent_tips(performer, limit: int = 20):
    return Tip.objects.filter(performer=performer).select_related("user").order_by("-created_at")[:limit]


def payouts_for(performer):
    return Payout.objects.filter(performer=performer)


def payout_settings(performer) -> PayoutSettings:
    """The performer's payout settings, or the platform's defaults (unsaved)."""
    saved = PayoutSettings.objects.filter(performer=performer).first()
    if saved is not None:
        return saved
    return PayoutSettings(
        performer=performer,
        method=settings.PAYOUT_METHODS[0] if settings.PAYOUT_METHODS else "",
        minimum_cents=prices.default_payout_minimum_cents(),
        schedule=PayoutSettings.Schedule.MANUAL,
    )


def token_packs() -> list[dict]:
    return [{"id": key, **value} for key, value in settings.TOKEN_PACKS.items()]


def tip_goal_progress(performer) -> dict | None:
    """The one tip-goal rule (room page, tip events, dashboards): tokens tipped
    during the current live show, reversed tips excluded (the goal restarts
    with every show); None when there is no goal or no live show.  Read from
    the show's counter row (``billing.tip_goals``)."""
    return tip_goals.progress(performer)

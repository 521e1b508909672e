from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Product(models.TextChoices):
    TOKENS = "tokens", "Token pack"
    TICKET = "ticket", "Show ticket"
    SUBSCRIPTION = "subscription", "Fan-club subscription"
    PRIVATE = "private", "Private show"


class Purchase(models.Model):
    """One payment through a provider (a token pack, a ticket, a subscription
    period).  ``status`` only moves forward: pending → paid / declined, and
    paid → refunded / charged_back, each by a compare-and-set update."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting payment"
        PAID = "paid", "Paid"
        DECLINED = "declined", "Declined"
        REFUNDED = "refunded", "Refunded"
        CHARGED_BACK = "charged_back", "Charged back"

    reference = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purchases")
    product = models.CharField(max_length=12, choices=Product.choices)
    provider = models.CharField(max_length=16)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="USD")
    description = models.CharField(max_length=200)
    pack = models.CharField(max_length=20, blank=True)
    tokens = models.PositiveIntegerField(default=0)
    performer = models.ForeignKey(
        "performers.Performer", null=True, blank=True, on_delete=models.PROTECT, related_name="sales"
    )
    show = models.ForeignKey("shows.Show", null=True, blank=True, on_delete=models.PROTECT, related_name="purchases")
    subscription = models.ForeignKey(
        "billing.Subscription", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    # The provider's id of the payment (charge, invoice, transaction), once known.
    provider_reference = models.CharField(max_length=120, blank=True)
    return_url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("refund_purchase", "Can refund a purchase (through its provider)")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="purchase_amount_positive"),
            models.CheckConstraint(
                condition=~Q(product="tokens") | Q(tokens__gt=0), name="purchase_token_pack_has_tokens"
            ),
            models.CheckConstraint(
                condition=~Q(product__in=["ticket", "private"]) | Q(show__isnull=False), name="purchase_ticket_has_show"
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="purchase_unique_provider_reference",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "show", "status"], name="purchase_user_show"),
            models.Index(fields=["user", "-created_at"], name="purchase_user_time"),
        ]

    def __str__(self) -> str:
        return f"{self.description} ({self.get_status_display()})"

    @property
    def is_paid(self) -> bool:
        return self.status == self.Status.PAID


class Subscription(models.Model):
    """A viewer's fan-club membership of one performer, provider-agnostic."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Payment failed"
        CANCELED = "canceled", "Canceled"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="subscriptions")
    performer = models.ForeignKey("performers.Performer", on_delete=models.PROTECT, related_name="subscribers")
    price_cents = models.PositiveIntegerField()
    provider = models.CharField(max_length=16)
    provider_subscription_id = models.CharField(max_length=120)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    current_period_end = models.DateTimeField()
    past_due_since = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "user_subscriptions"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_subscription_id"], name="subscription_unique_provider_id"
            ),
            models.CheckConstraint(condition=Q(price_cents__gt=0), name="subscription_price_positive"),
        ]
        indexes = [models.Index(fields=["user", "performer", "status"], name="subscription_user_performer")]

    def __str__(self) -> str:
        return f"{self.user} → {self.performer} ({self.status})"


class WebhookEvent(models.Model):
    """Every provider event we accepted, once: the unique (provider, event id)
    is what makes redeliveries harmless."""

    provider = models.CharField(max_length=16)
    event_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=80)
    received_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField(default=dict)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="webhookevent_unique")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id} {self.event_type}"


class Tip(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tips_sent")
    performer = models.ForeignKey("performers.Performer", on_delete=models.PROTECT, related_name="tips")
    tokens = models.PositiveIntegerField()
    message = models.CharField(max_length=200, blank=True)
    transfer = models.OneToOneField("ledger.Transfer", on_delete=models.PROTECT, related_name="tip")
    # The live show whose tip goal this tip counted towards (None: sent while
    # offline); a reversal takes it back out of that show's total.
    show = models.ForeignKey("shows.Show", null=True, blank=True, on_delete=models.PROTECT, related_name="tips")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(tokens__gt=0), name="tip_tokens_positive")]
        indexes = [models.Index(fields=["performer", "created_at"], name="tip_performer_time")]


class ShowTipTotal(models.Model):
    """Tokens tipped during one live show, less reversed tips: the tip goal's
    progress as one counter row (read and moved in O(1), never a SUM over the
    show's tips).  Moved only by ``billing.tip_goals`` in the tip's (or the
    reversal's) transaction; the database keeps it non-negative."""

    show = models.OneToOneField("shows.Show", on_delete=models.CASCADE, primary_key=True, related_name="tip_total")
    tokens = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(tokens__gte=0), name="show_tip_total_non_negative")]


class Payout(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"

    reference = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    performer = models.ForeignKey("performers.Performer", on_delete=models.PROTECT, related_name="payouts")
    amount_cents = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    rail = models.CharField(max_length=20, default="manual")
    rail_reference = models.CharField(max_length=120, blank=True)
    # Scheduled payouts only: the period they pay ("2026-W48", "2026-11");
    # unique per performer, so a period is paid out once however often beat runs.
    period = models.CharField(max_length=10, blank=True, default="")
    # How staff are to pay it (the performer's payout method when requested).
    method = models.CharField(max_length=20, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="payout_amount_positive"),
            models.UniqueConstraint(
                fields=["performer", "period"], condition=~Q(period=""), name="payout_once_per_period"
            ),
        ]


class PayoutSettings(models.Model):
    """How a performer wants to be paid: method, the smallest amount worth a
    payout, and whether payouts are requested for them on a schedule.  Values
    are checked by ``billing.prices.check_payout_settings``."""

    class Schedule(models.TextChoices):
        MANUAL = "manual", "Manual (I request payouts)"
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"

    performer = models.OneToOneField(
        "performers.Performer", on_delete=models.CASCADE, related_name="payout_settings", primary_key=True
    )
    method = models.CharField(max_length=20)
    minimum_cents = models.PositiveIntegerField()
    schedule = models.CharField(max_length=10, choices=Schedule.choices, default=Schedule.MANUAL)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(minimum_cents__gt=0), name="payoutsettings_minimum_positive"),
            models.CheckConstraint(
                condition=Q(schedule__in=["manual", "weekly", "monthly"]), name="payoutsettings_schedule_known"
            ),
        ]

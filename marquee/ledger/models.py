"""A minimal double-entry ledger.

Convention: every account's ``balance`` is the sum of its entries; a transfer
moves value *from* accounts (negative entries) *to* accounts (positive
entries) and its entries sum to zero per unit.  Outside-world accounts
(provider clearing, token supply, losses) may go negative; wallets, earnings
and payouts in flight may not — the database refuses it (CHECK constraint),
and the transfer service uses conditional updates in a fixed lock order so
concurrent debits never get that far.

Holds (two-phase transfers, as TigerBeetle's pending → posted / voided): a
``Hold`` reserves part of an account's balance; the account's ``held`` column
is the sum of its open holds' remaining amounts, and the database refuses
``balance - held < 0`` for accounts that must not go negative, so every debit
(tips, content, ...) can spend only the *available* balance.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Unit(models.TextChoices):
    TOKENS = "tokens", "Tokens"
    CENTS = "cents", "Cents (USD)"


class AccountKind(models.TextChoices):
    WALLET = "wallet", "Viewer wallet"
    PERFORMER_PENDING = "performer_pending", "Performer earnings (pending)"
    PERFORMER_AVAILABLE = "performer_available", "Performer earnings (available)"
    PAYOUTS_IN_FLIGHT = "payouts_in_flight", "Payouts in flight"
    PLATFORM_FEES = "platform_fees", "Platform fees"
    TOKEN_FLOAT = "token_float", "Cash for unredeemed tokens"
    TOKEN_SUPPLY = "token_supply", "Token supply"
    PROVIDER_CLEARING = "provider_clearing", "Provider clearing"
    CHARGEBACK_LOSS = "chargeback_loss", "Chargeback and refund losses"
    PAYOUTS_SENT = "payouts_sent", "Payouts sent"
    FORFEITED_TOKENS = "forfeited_tokens", "Tokens forfeited on account closure"


# Accounts that represent something held for someone: never negative.
NON_NEGATIVE_KINDS = (
    AccountKind.WALLET,
    AccountKind.PERFORMER_PENDING,
    AccountKind.PERFORMER_AVAILABLE,
    AccountKind.PAYOUTS_IN_FLIGHT,
)


class Account(models.Model):
    code = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=24, choices=AccountKind.choices)
    unit = models.CharField(max_length=8, choices=Unit.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    performer = models.ForeignKey(
        "performers.Performer", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    balance = models.BigIntegerField(default=0)
    # Reserved by open holds (sum of their remaining amounts): not spendable.
    held = models.BigIntegerField(default=0)
    allow_negative = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(allow_negative=True) | Q(balance__gte=0), name="ledger_account_non_negative"
            ),
            models.CheckConstraint(condition=Q(held__gte=0), name="ledger_account_held_non_negative"),
            # The available balance (balance − held) never goes negative.
            models.CheckConstraint(
                condition=Q(allow_negative=True) | Q(balance__gte=F("held")),
                name="ledger_account_available_non_negative",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=[k.value for k in NON_NEGATIVE_KINDS]) | Q(allow_negative=False),
                name="ledger_account_holding_kinds_never_negative",
            ),
            models.UniqueConstraint(
                fields=["kind", "user"], condition=Q(user__isnull=False), name="ledger_account_one_per_user_kind"
            ),
            models.UniqueConstraint(
                fields=["kind", "performer"],
                condition=Q(performer__isnull=False),
                name="ledger_account_one_per_performer_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class TransferKind(models.TextChoices):
    TOKEN_PURCHASE = "token_purchase", "Token purchase"
    TIP = "tip", "Tip"
    TICKET = "ticket", "Show ticket"
    SUBSCRIPTION = "subscription", "Subscription"
    PRIVATE = "private", "Private show"
    CONTENT = "content", "Content sale"
    REFUND = "refund", "Refund"
    CHARGEBACK = "chargeback", "Chargeback"
    RELEASE = "release", "Earnings released"
    PAYOUT = "payout", "Payout requested"
    PAYOUT_PAID = "payout_paid", "Payout sent"
    PAYOUT_FAILED = "payout_failed", "Payout returned"
    GRANT = "grant", "Grant"
    FORFEIT = "forfeit", "Tokens forfeited (account closed)"


# Transfers that create performer earnings (what a dashboard calls "sources").
EARNING_KINDS = (
    TransferKind.TIP,
    TransferKind.TICKET,
    TransferKind.SUBSCRIPTION,
    TransferKind.PRIVATE,
    TransferKind.CONTENT,
)


class Transfer(models.Model):
    """One immutable movement of value.  Never updated or deleted (a
    PostgreSQL trigger refuses it); mistakes are corrected by a new transfer
    that points at the original through ``related``."""

    kind = models.CharField(max_length=16, choices=TransferKind.choices)
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(db_index=True)
    # Who paid (the supporter) and who earned, when there is one.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_transfers"
    )
    performer = models.ForeignKey(
        "performers.Performer", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_transfers"
    )
    # The business object behind it, e.g. ("billing.purchase", "42").
    source_type = models.CharField(max_length=40, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    # The transfer this one reverses or releases.
    related = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="followups")
    # Set when this transfer posts (part of) a hold.
    hold = models.ForeignKey("ledger.Hold", null=True, blank=True, on_delete=models.PROTECT, related_name="postings")
    # For earnings: when they may move from pending to available.
    available_at = models.DateTimeField(null=True, blank=True)
    # Gross amount in cents (what the supporter paid, or tokens × token value)
    # and the performer's share, so dashboards need no entry arithmetic.
    gross_cents = models.BigIntegerField(default=0)
    performer_cents = models.BigIntegerField(default=0)
    memo = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            # At most one reversal (refund or chargeback) and one release per original.
            models.UniqueConstraint(
                fields=["related"],
                condition=Q(kind__in=["refund", "chargeback"]),
                name="ledger_transfer_one_reversal",
            ),
            models.UniqueConstraint(
                fields=["related"], condition=Q(kind="release"), name="ledger_transfer_one_release"
            ),
            models.CheckConstraint(
                condition=Q(gross_cents__gte=0) & Q(performer_cents__gte=0), name="ledger_transfer_amounts_non_negative"
            ),
        ]
        indexes = [
            # Earnings of one performer over a time range, by source.
            models.Index(fields=["performer", "created_at", "kind"], name="ledger_transfer_perf_time"),
            models.Index(fields=["user", "created_at"], name="ledger_transfer_user_time"),
            models.Index(fields=["kind", "available_at"], name="ledger_transfer_kind_avail"),
            models.Index(fields=["source_type", "source_id"], name="ledger_transfer_source"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class Entry(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField()
    # Copied from the transfer/account so per-account time-range sums need no join.
    unit = models.CharField(max_length=8, choices=Unit.choices)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="ledger_entry_non_zero")]
        indexes = [models.Index(fields=["account", "created_at"], name="ledger_entry_account_time")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.amount}"


class Hold(models.Model):
    """Tokens (or cents) reserved in one account: pending until closed, then
    posted (all of it transferred) or voided (what was not posted released).

    While pending, ``amount - posted`` is counted in ``Account.held``; a hold
    grows with ``extend_hold``, is spent in parts by ``post_from_hold`` (each
    part an ordinary immutable transfer pointing here) and is closed exactly
    once.  Only ``ledger.services`` writes these rows."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        POSTED = "posted", "Posted"
        VOIDED = "voided", "Voided"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holds")
    amount = models.BigIntegerField()
    posted = models.BigIntegerField(default=0)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    idempotency_key = models.CharField(max_length=200, unique=True)
    # The business object it escrows, e.g. ("privates.privateshow", "42").
    source_type = models.CharField(max_length=40, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_hold_amount_positive"),
            models.CheckConstraint(
                condition=Q(posted__gte=0) & Q(posted__lte=F("amount")), name="ledger_hold_posted_within_amount"
            ),
            models.CheckConstraint(
                condition=Q(status="pending", closed_at=None) | (~Q(status="pending") & Q(closed_at__isnull=False)),
                name="ledger_hold_closed_at_iff_closed",
            ),
            models.CheckConstraint(
                condition=~Q(status="posted") | Q(posted=F("amount")), name="ledger_hold_posted_is_whole"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "account"], name="ledger_hold_status_account"),
            models.Index(fields=["source_type", "source_id"], name="ledger_hold_source"),
        ]

    def __str__(self) -> str:
        return f"hold #{self.pk} {self.posted}/{self.amount} {self.status}"

    @property
    def remaining(self) -> int:
        """Still reserved (0 once closed)."""
        return self.amount - self.posted if self.status == self.Status.PENDING else 0

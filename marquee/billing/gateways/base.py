"""The payment gateway interface: one small Protocol, one folder per provider."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Protocol


class EventType:
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"
    # The buyer approved on the provider's page and the provider waits for us
    # to collect (PayPal's capture): only gateways with ``collect()`` send it.
    PAYMENT_APPROVED = "payment_approved"
    SUBSCRIPTION_RENEWED = "subscription_renewed"
    SUBSCRIPTION_PAST_DUE = "subscription_past_due"
    SUBSCRIPTION_ENDED = "subscription_ended"
    REFUNDED = "refunded"
    CHARGEBACK = "chargeback"
    UNKNOWN = "unknown"


class WebhookRejected(Exception):
    """Bad signature, stale timestamp, wrong source: answer 400, write nothing."""


class GatewayNotConfigured(Exception):
    """The provider is switched off (its secrets are not set)."""


@dataclass(frozen=True)
class NormalizedEvent:
    """What every provider's webhook boils down to."""

    event_id: str
    type: str
    raw_type: str
    # Our Purchase.reference, when the provider echoes it back.
    purchase_reference: str = ""
    # The provider's id of the payment (charge/invoice/transaction).
    payment_reference: str = ""
    subscription_id: str = ""
    # Other ids the provider knows the same payment by (e.g. Stripe's charge
    # and invoice ids beside its payment intent): a refund or dispute may name any.
    other_references: tuple[str, ...] = ()
    period_end: datetime.datetime | None = None
    amount_cents: int | None = None
    payload: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CheckoutRequest:
    purchase_reference: str
    description: str
    amount_cents: int
    currency: str
    recurring: bool
    success_url: str
    cancel_url: str
    customer_email: str = ""
    # What the payer's bank statement shows (settings.BILLING_DESCRIPTOR): discretion.
    descriptor: str = ""


@dataclass(frozen=True)
class CheckoutSession:
    url: str
    # The provider's id of the checkout/invoice, when it has one.
    provider_reference: str = ""


class Gateway(Protocol):
    name: str

    def is_enabled(self) -> bool: ...

    def start_checkout(self, checkout: CheckoutRequest) -> CheckoutSession:
        """Create the provider's hosted checkout (its URL is where the buyer goes)."""

    def parse_webhook(self, *, body: bytes, headers, client_ip: str) -> list[NormalizedEvent]:
        """Verify ``body`` (raw bytes) and turn it into normalized events.
        Raises ``WebhookRejected`` if it is not authentic or too old."""

    def cancel_subscription(self, subscription_id: str) -> None: ...

    def refund(self, payment_reference: str, amount_cents: int) -> None: ...

"""PayPal webhook events (v2 checkout/payments, v1 subscriptions and sales,
disputes) → ``NormalizedEvent``.  Pure: no I/O, no database.

Reversals (refunds, reversals, disputes) are found by the capture or sale id
they name, which fulfilment stored as the purchase's ``provider_reference``;
they never use ``custom_id``, which on a subscription's sale would name the
first purchase rather than the renewal being reversed."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings

from marquee.billing.gateways.base import EventType, NormalizedEvent

# Every Purchase is priced in USD; an amount in anything else never matches a price.
CURRENCY = "USD"


def cents(amount, *, value_key: str = "value", currency_key: str = "currency_code") -> int | None:
    """``{"currency_code": "USD", "value": "9.99"}`` → 999; None if not an exact positive USD amount."""
    if not isinstance(amount, dict) or amount.get(currency_key) != CURRENCY:
        return None
    try:
        value = Decimal(str(amount.get(value_key))) * 100
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.to_integral_value() or value <= 0:
        return None
    return int(value)


def _time(value) -> datetime.datetime | None:
    try:
        moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _linked_id(resource: dict, rel: str) -> str:
    """The id at the end of the resource's ``rel`` link (a refund's ``up`` is its capture)."""
    for link in resource.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == rel and link.get("href"):
            return str(link["href"]).rstrip("/").rsplit("/", 1)[-1]
    return ""


def _order_reference(order: dict) -> str:
    units = order.get("purchase_units") or [{}]
    unit = units[0] if isinstance(units[0], dict) else {}
    return str(unit.get("custom_id") or unit.get("invoice_id") or unit.get("reference_id") or "")


def normalize(event: dict) -> list[NormalizedEvent]:
    kind = str(event["event_type"])
    resource = event.get("resource") or {}
    if not isinstance(resource, dict):
        raise ValueError("resource is not an object")
    base = {"event_id": str(event["id"]), "raw_type": kind, "payload": event}
    resource_id = str(resource.get("id") or "")

    if kind == "CHECKOUT.ORDER.APPROVED":
        # The buyer approved on PayPal's page: the order still has to be captured by us.
        return [
            NormalizedEvent(
                type=EventType.PAYMENT_APPROVED,
                purchase_reference=_order_reference(resource),
                payment_reference=resource_id,
                **base,
            )
        ]
    if kind == "PAYMENT.CAPTURE.COMPLETED" and resource.get("status") == "COMPLETED":
        return [
            NormalizedEvent(
                type=EventType.PAYMENT_SUCCEEDED,
                purchase_reference=str(resource.get("custom_id") or resource.get("invoice_id") or ""),
                payment_reference=resource_id,
                # 0 (never a price) when the amount is unusable: recorded as a mismatch, not fulfilled.
                amount_cents=cents(resource.get("amount")) or 0,
                **base,
            )
        ]
    if kind in ("PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED"):
        return [
            NormalizedEvent(
                type=EventType.PAYMENT_FAILED,
                purchase_reference=str(resource.get("custom_id") or resource.get("invoice_id") or ""),
                **base,
            )
        ]
    if kind in ("PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED"):
        # The resource is the refund; its "up" link names the capture.
        return [
            NormalizedEvent(
                type=EventType.REFUNDED if kind.endswith("REFUNDED") else EventType.CHARGEBACK,
                payment_reference=_linked_id(resource, "up"),
                amount_cents=cents(resource.get("amount")),
                **base,
            )
        ]
    if kind == "PAYMENT.SALE.COMPLETED" and resource.get("billing_agreement_id"):
        # A subscription's payment.  The first one is booked with the purchase
        # (same sale id), so booking it again here is refused as a duplicate.
        created = _time(resource.get("create_time"))
        return [
            NormalizedEvent(
                type=EventType.SUBSCRIPTION_RENEWED if resource.get("state") == "completed" else EventType.UNKNOWN,
                subscription_id=str(resource["billing_agreement_id"]),
                payment_reference=resource_id,
                amount_cents=cents(resource.get("amount"), value_key="total", currency_key="currency"),
                period_end=created + datetime.timedelta(days=settings.SUBSCRIPTION_PERIOD_DAYS) if created else None,
                **base,
            )
        ]
    if kind in ("PAYMENT.SALE.REFUNDED", "PAYMENT.SALE.REVERSED"):
        return [
            NormalizedEvent(
                type=EventType.REFUNDED if kind.endswith("REFUNDED") else EventType.CHARGEBACK,
                payment_reference=str(resource.get("sale_id") or _linked_id(resource, "sale") or resource_id),
                **base,
            )
        ]
    if kind == "CUSTOMER.DISPUTE.CREATED":
        transactions = [t for t in resource.get("disputed_transactions") or [] if isinstance(t, dict)]
        return [
            NormalizedEvent(
                type=EventType.CHARGEBACK,
                payment_reference=str(t.get("seller_transaction_id") or ""),
                **{**base, "event_id": base["event_id"] if i == 0 else f"{base['event_id']}:{i}"},
            )
            for i, t in enumerate(transactions)
        ] or [NormalizedEvent(type=EventType.UNKNOWN, **base)]
    if kind == "BILLING.SUBSCRIPTION.ACTIVATED":
        # Approved and active: its first payment is collected (looked up) by us.
        return [
            NormalizedEvent(
                type=EventType.PAYMENT_APPROVED,
                purchase_reference=str(resource.get("custom_id") or ""),
                subscription_id=resource_id,
                **base,
            )
        ]
    if kind in ("BILLING.SUBSCRIPTION.SUSPENDED", "BILLING.SUBSCRIPTION.PAYMENT.FAILED"):
        return [NormalizedEvent(type=EventType.SUBSCRIPTION_PAST_DUE, subscription_id=resource_id, **base)]
    if kind in ("BILLING.SUBSCRIPTION.CANCELLED", "BILLING.SUBSCRIPTION.EXPIRED"):
        return [NormalizedEvent(type=EventType.SUBSCRIPTION_ENDED, subscription_id=resource_id, **base)]
    return [NormalizedEvent(type=EventType.UNKNOWN, **base)]

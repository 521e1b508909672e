"""Stripe Checkout Sessions (payment and subscription mode) and Billing events.

Note: Stripe's terms forbid adult content; this adapter exists for operators
whose catalogue Stripe accepts (or for testing).  Webhooks are verified with
``stripe.Webhook.construct_event`` on the raw body; purchases are fulfilled
only when the session's ``payment_status`` is ``paid``."""

from __future__ import annotations

import datetime

import stripe
from django.conf import settings

from marquee.billing.gateways.base import (
    CheckoutRequest,
    CheckoutSession,
    EventType,
    NormalizedEvent,
    WebhookRejected,
)

SIGNATURE_HEADER = "Stripe-Signature"


def _get(obj, *path, default=None):
    for key in path:
        if obj is None:
            return default
        obj = obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)
    return default if obj is None else obj


def _ids(*values) -> tuple[str, ...]:
    # An expanded object (a dict) or a plain id string.
    return tuple(str(_get(v, "id") if isinstance(v, dict) else v) for v in values if v)


def _timestamp(value):
    return datetime.datetime.fromtimestamp(int(value), tz=datetime.UTC) if value else None


def _invoice_subscription(invoice) -> str:
    # Older API versions put it on the invoice, newer ones under parent.
    return str(_get(invoice, "subscription") or _get(invoice, "parent", "subscription_details", "subscription") or "")


def normalize(event: dict) -> NormalizedEvent:
    kind = event["type"]
    obj = _get(event, "data", "object") or {}
    base = {"event_id": str(event["id"]), "raw_type": kind, "payload": event}
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        if _get(obj, "payment_status") not in ("paid", "no_payment_required"):
            # Delayed payment methods: fulfil on async_payment_succeeded.
            return NormalizedEvent(type=EventType.UNKNOWN, **base)
        return NormalizedEvent(
            type=EventType.PAYMENT_SUCCEEDED,
            purchase_reference=str(_get(obj, "client_reference_id", default="")),
            payment_reference=str(_get(obj, "payment_intent") or _get(obj, "invoice") or _get(obj, "id") or ""),
            subscription_id=str(_get(obj, "subscription", default="")),
            amount_cents=_get(obj, "amount_total"),
            **base,
        )
    if kind == "checkout.session.async_payment_failed":
        return NormalizedEvent(
            type=EventType.PAYMENT_FAILED, purchase_reference=str(_get(obj, "client_reference_id", default="")), **base
        )
    if kind == "invoice.paid":
        if _get(obj, "billing_reason") == "subscription_create":
            # The first period is fulfilled by checkout.session.completed.
            return NormalizedEvent(type=EventType.UNKNOWN, **base)
        lines = _get(obj, "lines", "data", default=[])
        period_end = _get(lines[0], "period", "end") if lines else _get(obj, "period_end")
        return NormalizedEvent(
            type=EventType.SUBSCRIPTION_RENEWED,
            payment_reference=str(_get(obj, "id", default="")),
            subscription_id=_invoice_subscription(obj),
            period_end=_timestamp(period_end),
            amount_cents=_get(obj, "amount_paid"),
            **base,
        )
    if kind == "invoice.payment_failed":
        return NormalizedEvent(type=EventType.SUBSCRIPTION_PAST_DUE, subscription_id=_invoice_subscription(obj), **base)
    if kind == "customer.subscription.deleted":
        return NormalizedEvent(
            type=EventType.SUBSCRIPTION_ENDED, subscription_id=str(_get(obj, "id", default="")), **base
        )
    if kind == "charge.refunded":
        # ``amount_refunded`` is cumulative over the charge's refunds.
        return NormalizedEvent(
            type=EventType.REFUNDED,
            payment_reference=str(_get(obj, "payment_intent") or ""),
            other_references=_ids(_get(obj, "id"), _get(obj, "invoice")),
            amount_cents=_get(obj, "amount_refunded"),
            **base,
        )
    if kind == "charge.dispute.created":
        return NormalizedEvent(
            type=EventType.CHARGEBACK,
            payment_reference=str(_get(obj, "payment_intent") or ""),
            other_references=_ids(_get(obj, "charge")),
            **base,
        )
    return NormalizedEvent(type=EventType.UNKNOWN, **base)


class StripeGateway:
    name = "stripe"

    def is_enabled(self) -> bool:
        return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_WEBHOOK_SECRET)

    def start_checkout(self, checkout: CheckoutRequest) -> CheckoutSession:
        price_data = {
            "currency": checkout.currency.lower(),
            "unit_amount": checkout.amount_cents,
            "product_data": {"name": checkout.description},
        }
        if checkout.recurring:
            price_data["recurring"] = {"interval": "month"}
        extra = {}
        if checkout.descriptor and not checkout.recurring:
            # Card statements show the account's prefix plus this suffix.
            # (Subscriptions' invoices use the account's descriptor.)
            extra["payment_intent_data"] = {"statement_descriptor_suffix": checkout.descriptor}
        session = stripe.checkout.Session.create(
            api_key=settings.STRIPE_SECRET_KEY,
            mode="subscription" if checkout.recurring else "payment",
            line_items=[{"price_data": price_data, "quantity": 1}],
            client_reference_id=checkout.purchase_reference,
            metadata={"purchase": checkout.purchase_reference},
            customer_email=checkout.customer_email or None,
            success_url=checkout.success_url,
            cancel_url=checkout.cancel_url,
            **extra,
        )
        return CheckoutSession(session.url, session.id)

    def parse_webhook(self, *, body: bytes, headers, client_ip: str) -> list[NormalizedEvent]:
        if not settings.STRIPE_WEBHOOK_SECRET:
            raise WebhookRejected("webhook secret not configured")
        try:
            event = stripe.Webhook.construct_event(
                body,
                headers.get(SIGNATURE_HEADER, ""),
                settings.STRIPE_WEBHOOK_SECRET,
                tolerance=settings.WEBHOOK_TOLERANCE_SECONDS,
            )
        except stripe.SignatureVerificationError as exc:
            raise WebhookRejected(f"signature: {exc.user_message or 'invalid'}")
        except ValueError:
            raise WebhookRejected("malformed Stripe event")
        return [normalize(event.to_dict())]

    def cancel_subscription(self, subscription_id: str) -> None:
        # At period end: the viewer keeps what they paid for.
        stripe.Subscription.modify(subscription_id, cancel_at_period_end=True, api_key=settings.STRIPE_SECRET_KEY)

    def refund(self, payment_reference: str, amount_cents: int) -> None:
        # A purchase keeps the payment intent (or, for older charges, the charge id).
        target = (
            {"charge": payment_reference}
            if payment_reference.startswith("ch_")
            else {"payment_intent": payment_reference}
        )
        stripe.Refund.create(**target, amount=amount_cents, api_key=settings.STRIPE_SECRET_KEY)

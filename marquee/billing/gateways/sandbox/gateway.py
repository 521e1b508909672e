"""The embedded sandbox provider: a local hosted page (no card fields) whose
Pay / Decline buttons — and the admin's refund / chargeback actions — emit
HMAC-signed events that go through the same webhook processing as any
real provider."""

from __future__ import annotations

import datetime
import json
import time
import uuid

from django.conf import settings
from django.urls import reverse

from marquee.billing.gateways.base import CheckoutRequest, CheckoutSession, EventType, NormalizedEvent, WebhookRejected
from marquee.billing.gateways.signing import hmac_hex, verify_timestamped

SIGNATURE_HEADER = "Sandbox-Signature"

_TYPES = {
    "payment.succeeded": EventType.PAYMENT_SUCCEEDED,
    "payment.declined": EventType.PAYMENT_FAILED,
    "subscription.renewed": EventType.SUBSCRIPTION_RENEWED,
    "subscription.past_due": EventType.SUBSCRIPTION_PAST_DUE,
    "subscription.ended": EventType.SUBSCRIPTION_ENDED,
    "refund.succeeded": EventType.REFUNDED,
    "chargeback.created": EventType.CHARGEBACK,
}


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={hmac_hex(secret, f'{timestamp}.'.encode() + body)}"


def build_event(event_type: str, data: dict, *, event_id: str | None = None) -> tuple[bytes, dict]:
    """A signed sandbox event: ``(raw body, headers)``."""
    body = json.dumps(
        {"id": event_id or f"evt_{uuid.uuid4().hex}", "type": event_type, "created": int(time.time()), "data": data},
        separators=(",", ":"),
    ).encode()
    return body, {SIGNATURE_HEADER: sign(body, settings.SANDBOX_WEBHOOK_SECRET)}


class SandboxGateway:
    name = "sandbox"

    def is_enabled(self) -> bool:
        return settings.SANDBOX_ENABLED and bool(settings.SANDBOX_WEBHOOK_SECRET)

    def start_checkout(self, checkout: CheckoutRequest) -> CheckoutSession:
        return CheckoutSession(reverse("sandbox_checkout", args=[checkout.purchase_reference]))

    def parse_webhook(self, *, body: bytes, headers, client_ip: str) -> list[NormalizedEvent]:
        verify_timestamped(
            headers.get(SIGNATURE_HEADER, ""), body, settings.SANDBOX_WEBHOOK_SECRET, settings.WEBHOOK_TOLERANCE_SECONDS
        )
        try:
            event = json.loads(body)
            data = event.get("data") or {}
            period_end = data.get("period_end")
            return [
                NormalizedEvent(
                    event_id=str(event["id"]),
                    type=_TYPES.get(event["type"], EventType.UNKNOWN),
                    raw_type=str(event["type"]),
                    purchase_reference=str(data.get("purchase", "")),
                    payment_reference=str(data.get("payment", "")),
                    subscription_id=str(data.get("subscription", "")),
                    period_end=datetime.datetime.fromtimestamp(int(period_end), tz=datetime.UTC)
                    if period_end
                    else None,
                    amount_cents=int(data["amount_cents"]) if data.get("amount_cents") is not None else None,
                    payload=event,
                )
            ]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise WebhookRejected("malformed sandbox event")

    def cancel_subscription(self, subscription_id: str) -> None:
        """Nothing to tell: the sandbox has no recurring billing of its own."""

    def refund(self, payment_reference: str, amount_cents: int) -> None:
        """Refunds are emitted as events by ``services.sandbox_emit``."""

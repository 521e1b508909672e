"""BTCPay Server (crypto) through its Greenfield API.

Checkout: ``POST {BTCPAY_URL}/api/v1/stores/{store}/invoices`` → the invoice's
``checkoutLink``.  Webhooks: ``BTCPay-Sig: sha256=<hex HMAC-SHA256 of the raw
body>``.  A redelivery is a new delivery whose ``originalDeliveryId`` names
the first one: we deduplicate on that, so redeliveries are no-ops.  No
subscriptions (crypto has no card-on-file)."""

from __future__ import annotations

import datetime
import hmac
import json
import time

import httpx
from django.conf import settings

from marquee.billing.gateways.base import CheckoutRequest, CheckoutSession, EventType, NormalizedEvent, WebhookRejected
from marquee.billing.gateways.signing import hmac_hex

SIGNATURE_HEADER = "BTCPay-Sig"
# BTCPay signs no timestamp header; the body's own timestamp bounds replays of
# very old deliveries (beyond BTCPay's retry window).
MAX_EVENT_AGE = datetime.timedelta(days=3)

_TYPES = {
    "InvoiceSettled": EventType.PAYMENT_SUCCEEDED,
    "InvoiceExpired": EventType.PAYMENT_FAILED,
    "InvoiceInvalid": EventType.PAYMENT_FAILED,
}


class BTCPayGateway:
    name = "btcpay"

    def is_enabled(self) -> bool:
        return bool(settings.BTCPAY_URL and settings.BTCPAY_API_KEY and settings.BTCPAY_WEBHOOK_SECRET)

    def start_checkout(self, checkout: CheckoutRequest) -> CheckoutSession:
        if checkout.recurring:
            raise ValueError("BTCPay has no recurring payments")
        response = httpx.post(
            f"{settings.BTCPAY_URL.rstrip('/')}/api/v1/stores/{settings.BTCPAY_STORE_ID}/invoices",
            headers={"Authorization": f"token {settings.BTCPAY_API_KEY}"},
            json={
                "amount": f"{checkout.amount_cents / 100:.2f}",
                "currency": checkout.currency,
                "metadata": {"orderId": checkout.purchase_reference, "itemDesc": checkout.description},
                "checkout": {"redirectURL": checkout.success_url},
            },
            timeout=15,
        )
        response.raise_for_status()
        invoice = response.json()
        return CheckoutSession(invoice["checkoutLink"], invoice["id"])

    def parse_webhook(self, *, body: bytes, headers, client_ip: str) -> list[NormalizedEvent]:
        secret = settings.BTCPAY_WEBHOOK_SECRET
        if not secret:
            raise WebhookRejected("webhook secret not configured")
        signature = headers.get(SIGNATURE_HEADER, "")
        if not hmac.compare_digest(f"sha256={hmac_hex(secret, body)}", signature):
            raise WebhookRejected("signature mismatch")
        try:
            event = json.loads(body)
            if time.time() - int(event["timestamp"]) > MAX_EVENT_AGE.total_seconds():
                raise WebhookRejected("event too old")
            delivery = event.get("originalDeliveryId") or event["deliveryId"]
            metadata = event.get("metadata") or {}
            return [
                NormalizedEvent(
                    event_id=str(delivery),
                    type=_TYPES.get(event["type"], EventType.UNKNOWN),
                    raw_type=str(event["type"]),
                    purchase_reference=str(metadata.get("orderId", "")),
                    payment_reference=str(event.get("invoiceId", "")),
                    payload=event,
                )
            ]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise WebhookRejected("malformed BTCPay event")

    def cancel_subscription(self, subscription_id: str) -> None:
        raise NotImplementedError("BTCPay has no subscriptions")

    def refund(self, payment_reference: str, amount_cents: int) -> None:
        # Greenfield refunds create a pull payment the buyer claims; the
        # ledger side is applied when staff record it (refund event).
        response = httpx.post(
            f"{settings.BTCPAY_URL.rstrip('/')}/api/v1/stores/{settings.BTCPAY_STORE_ID}/invoices/{payment_reference}/refund",
            headers={"Authorization": f"token {settings.BTCPAY_API_KEY}"},
            json={"refundVariant": "Fiat"},
            timeout=15,
        )
        response.raise_for_status()

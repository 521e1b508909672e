"""HMAC helpers shared by the providers that sign with a shared secret."""

from __future__ import annotations

import hashlib
import hmac
import time

from marquee.billing.gateways.base import WebhookRejected


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_timestamped(header: str, body: bytes, secret: str, tolerance: int, now: float | None = None) -> None:
    """Check a ``t=<unix>,v1=<hex hmac of "t.body">`` header (Stripe's scheme)."""
    if not secret:
        raise WebhookRejected("webhook secret not configured")
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
        signature = parts["v1"]
    except (KeyError, ValueError):
        raise WebhookRejected("malformed signature header")
    expected = hmac_hex(secret, f"{timestamp}.".encode() + body)
    if not hmac.compare_digest(expected, signature):
        raise WebhookRejected("signature mismatch")
    if abs((now or time.time()) - timestamp) > tolerance:
        raise WebhookRejected("signature timestamp outside the tolerance window")

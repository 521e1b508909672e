"""Billing test helpers: signed sandbox events, funding a wallet, tipping."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

from marquee.billing import services
from marquee.billing.models import Purchase
from marquee.lib.geo import UNKNOWN
from tests.factories import PurchaseFactory

SANDBOX_SECRET = "test-sandbox-secret"


def sandbox_body(event_type: str, data: dict, event_id: str | None = None) -> bytes:
    return json.dumps(
        {"id": event_id or f"evt_{uuid.uuid4().hex}", "type": event_type, "created": int(time.time()), "data": data}
    ).encode()


def sandbox_signature(body: bytes, secret: str = SANDBOX_SECRET, timestamp: int | None = None) -> str:
    """Computed here with hmac directly, independently of the app's signer."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def post_sandbox(client, body: bytes, signature: str | None = None):
    return client.post(
        "/webhooks/sandbox/",
        data=body,
        content_type="application/json",
        headers={"Sandbox-Signature": signature if signature is not None else sandbox_signature(body)},
    )


def pending_purchase(user, **fields) -> Purchase:
    return PurchaseFactory(user=user, **fields)


def fund(user, tokens: int = 100, amount_cents: int = 999) -> Purchase:
    """Tokens bought through the sandbox's signed-event path."""
    purchase = pending_purchase(user, tokens=tokens, amount_cents=amount_cents)
    services.sandbox_complete_checkout(purchase=purchase, pay=True)
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    return purchase


def tip(user, performer, tokens, key=None, message=""):
    return services.send_tip(
        user=user,
        performer=performer,
        tokens=tokens,
        idempotency_key=key or uuid.uuid4().hex,
        location=UNKNOWN,
        message=message,
    )

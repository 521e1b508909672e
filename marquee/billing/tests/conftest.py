from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import pytest
from django.core.management import call_command
from django.test import override_settings

from marquee.billing import services
from marquee.billing.models import Product, Purchase
from marquee.lib.geo import UNKNOWN

SANDBOX_SECRET = "test-sandbox-secret"


@pytest.fixture(autouse=True)
def _money_settings():
    with override_settings(
        SANDBOX_ENABLED=True,
        SANDBOX_WEBHOOK_SECRET=SANDBOX_SECRET,
        PERFORMER_SHARE_PERCENT=60,
        TOKEN_VALUE_CENTS=10,
        EARNINGS_HOLD_DAYS=7,
        PAYOUT_MINIMUM_CENTS=5000,
        SUBSCRIPTION_GRACE_DAYS=3,
        # These tests are about money mechanics; the age-verification gate in
        # front of purchases is tested in marquee/compliance/tests and in
        # test_checkout.py::test_unverified_buyer_is_refused_and_nothing_is_created.
        AGE_VERIFICATION_BEFORE_PURCHASE=False,
    ):
        yield


@pytest.fixture
def ledger_clean(db):
    yield
    call_command("ledger_check")


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
    defaults = {
        "product": Product.TOKENS,
        "pack": "small",
        "tokens": 100,
        "amount_cents": 999,
        "description": "100 tokens",
    }
    return Purchase.objects.create(user=user, **{"provider": "sandbox", **defaults, **fields})


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

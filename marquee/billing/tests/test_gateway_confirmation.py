"""Invariants of the unsigned and HMAC-signed providers that no other test
pinned: CCBill's real ``confirm()`` (against a fake CCBill through an httpx
MockTransport) and BTCPay without a signature header."""

from __future__ import annotations

import ipaddress
import json
import time

import httpx
import pytest
from django.test import override_settings

from marquee.billing.gateways import EventType, NormalizedEvent
from marquee.billing.gateways.ccbill.gateway import CCBillGateway
from marquee.billing.models import Purchase, WebhookEvent
from marquee.billing.tests.test_webhooks import FakeCCBill, btcpay_body, post_ccbill
from marquee.ledger.models import Transfer
from tests.support.billing import pending_purchase

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(monkeypatch):
    fake = FakeCCBill()
    monkeypatch.setattr("marquee.billing.gateways.ccbill.gateway.TRANSPORT", httpx.MockTransport(fake.handler))
    return fake


def ccbill_settings(**overrides):
    values = {
        "CCBILL_ACCOUNT": "900000",
        "CCBILL_FLEXFORM_ID": "ff",
        "CCBILL_SALT": "salt",
        "CCBILL_API_URL": "https://ccbill.invalid/api",
        "CCBILL_API_TOKEN": FakeCCBill.token,
        "CCBILL_WEBHOOK_ALLOWED_NETWORKS": [ipaddress.ip_network("198.51.100.0/24")],
    }
    return override_settings(**{**values, **overrides})


def sale_event(reference="tx1", amount=999, purchase="p-1") -> NormalizedEvent:
    return NormalizedEvent(
        event_id=f"NewSaleSuccess:{reference}:t",
        type=EventType.PAYMENT_SUCCEEDED,
        raw_type="NewSaleSuccess",
        purchase_reference=purchase,
        payment_reference=reference,
        amount_cents=amount,
    )


def nothing_written(purchase) -> bool:
    purchase.refresh_from_db()
    return (
        purchase.status == Purchase.Status.PENDING
        and not WebhookEvent.objects.exists()
        and not Transfer.objects.exists()
    )


def test_ccbill_confirm_is_false_without_credentials_and_asks_no_one(client, viewer, fake):
    fake.transactions["tx1"] = {"transactionId": "tx1", "amount": "9.99"}
    with ccbill_settings(CCBILL_API_TOKEN=""):
        assert CCBillGateway().confirm(sale_event()) is False
        purchase = pending_purchase(viewer, provider="ccbill")
        sale = {
            "eventType": "NewSaleSuccess",
            "transactionId": "tx1",
            "timestamp": "2026-11-26 10:00:00",
            "X-purchase": str(purchase.reference),
            "billedInitialPrice": "9.99",
        }
        assert post_ccbill(client, sale).status_code == 400
    assert fake.requests == []
    assert nothing_written(purchase)


def test_ccbill_confirm_matches_the_record_not_just_its_existence(fake):
    fake.transactions["tx1"] = {"transactionId": "tx1", "X-purchase": "p-1", "amount": "9.99"}
    gateway = CCBillGateway()
    with ccbill_settings():
        assert gateway.confirm(sale_event()) is True
        assert fake.requests[-1].headers["Authorization"] == f"Bearer {FakeCCBill.token}"
        assert gateway.confirm(sale_event(amount=99)) is False  # another amount
        assert gateway.confirm(sale_event(purchase="p-2")) is False  # another purchase
        assert gateway.confirm(sale_event(reference="tx2")) is False  # unknown transaction
        fake.transactions["tx3"] = {"transactionId": "tx-other", "amount": "9.99"}
        assert gateway.confirm(sale_event(reference="tx3")) is False  # the record is about something else
    with ccbill_settings(CCBILL_API_TOKEN="wrong-token"):
        assert gateway.confirm(sale_event()) is False  # CCBill refuses the token


def test_ccbill_confirm_quotes_the_reference_from_the_unsigned_body(fake):
    with ccbill_settings():
        assert CCBillGateway().confirm(sale_event(reference="../admin?x=1")) is False
    assert fake.requests[-1].url.raw_path == b"/api/transactions/..%2Fadmin%3Fx%3D1"


def test_ccbill_confirm_survives_a_broken_answer(monkeypatch):
    def broken(request):
        return httpx.Response(200, content=b"<html>maintenance</html>")

    monkeypatch.setattr("marquee.billing.gateways.ccbill.gateway.TRANSPORT", httpx.MockTransport(broken))
    with ccbill_settings():
        assert CCBillGateway().confirm(sale_event()) is False

    def down(request):
        raise httpx.ConnectError("no route", request=request)

    monkeypatch.setattr("marquee.billing.gateways.ccbill.gateway.TRANSPORT", httpx.MockTransport(down))
    with ccbill_settings():
        assert CCBillGateway().confirm(sale_event()) is False


@override_settings(BTCPAY_URL="https://btcpay.invalid", BTCPAY_API_KEY="k", BTCPAY_WEBHOOK_SECRET="btcpay-secret")
@pytest.mark.parametrize("headers", [{}, {"BTCPay-Sig": ""}, {"BTCPay-Sig": "sha256="}])
def test_btcpay_without_a_signature_is_refused_and_writes_nothing(client, viewer, headers):
    purchase = pending_purchase(viewer, provider="btcpay")
    body = btcpay_body(purchase, timestamp=int(time.time()))
    assert json.loads(body)["type"] == "InvoiceSettled"
    response = client.post("/webhooks/btcpay/", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_webhook"
    assert nothing_written(purchase)


def test_ccbill_partial_refund_is_confirmed_then_flagged_for_staff(client, viewer, fake, ledger_clean):
    purchase = pending_purchase(viewer, provider="ccbill")
    fake.transactions["tx9"] = {"transactionId": "tx9", "X-purchase": str(purchase.reference), "amount": "9.99"}
    sale = {
        "eventType": "NewSaleSuccess",
        "transactionId": "tx9",
        "timestamp": "2026-11-26 10:00:00",
        "X-purchase": str(purchase.reference),
        "billedInitialPrice": "9.99",
    }
    refund = {"eventType": "Refund", "transactionId": "tx9", "timestamp": "2026-11-27 10:00:00", "amount": "3.00"}
    with ccbill_settings():
        assert post_ccbill(client, sale).json()["outcomes"] == ["fulfilled"]
        outcome = post_ccbill(client, refund).json()["outcomes"]
        assert outcome[0].startswith("flagged: partial refund of 300 of 999")
        purchase.refresh_from_db()
        assert purchase.status == Purchase.Status.PAID
        full = {**refund, "timestamp": "2026-11-28 10:00:00", "amount": "9.99"}
        assert post_ccbill(client, full).json()["outcomes"] == ["refund"]
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.REFUNDED

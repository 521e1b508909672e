"""Each provider's events signed with its own scheme: valid, tampered, stale,
wrong secret, duplicated, replayed, out of order, unknown types."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
import json
import time
import uuid

import httpx
import pytest
import stripe
from django.test import override_settings
from django.utils import timezone

from marquee.billing.models import Product, Purchase, Subscription, WebhookEvent
from marquee.ledger import selectors as ledger
from marquee.ledger.models import AccountKind, Transfer
from tests.support.billing import pending_purchase, post_sandbox, sandbox_body, sandbox_signature

pytestmark = pytest.mark.django_db


def nothing_written(purchase):
    purchase.refresh_from_db()
    return (
        purchase.status == Purchase.Status.PENDING
        and not WebhookEvent.objects.exists()
        and not Transfer.objects.exists()
    )


# --- sandbox (HMAC over "timestamp.body") -----------------------------------------


def pay_body(purchase, **extra):
    data = {"purchase": str(purchase.reference), "amount_cents": purchase.amount_cents, "payment": f"pay_{purchase.pk}"}
    return sandbox_body("payment.succeeded", {**data, **extra})


def test_sandbox_valid_event_fulfils_once(client, viewer, ledger_clean):
    purchase = pending_purchase(viewer)
    body = pay_body(purchase)
    response = post_sandbox(client, body)
    assert response.status_code == 200 and response.json()["outcomes"] == ["fulfilled"]
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID and purchase.provider_reference == f"pay_{purchase.pk}"
    assert ledger.wallet_balance(viewer) == 100
    # Duplicated: the very same delivery again.
    again = post_sandbox(client, body)
    assert again.status_code == 200 and again.json()["outcomes"] == ["duplicate"]
    # Replayed with a fresh signature and a new event id: the purchase is settled already.
    replay = post_sandbox(client, pay_body(purchase))
    assert replay.status_code == 200 and replay.json()["outcomes"] == ["ignored: already settled"]
    assert ledger.wallet_balance(viewer) == 100
    assert Transfer.objects.filter(kind="token_purchase").count() == 1


def test_sandbox_tampered_stale_and_wrong_secret_are_400_and_write_nothing(client, viewer):
    purchase = pending_purchase(viewer)
    body = pay_body(purchase)
    signature = sandbox_signature(body)
    tampered = body.replace(b'"amount_cents": 999', b'"amount_cents": 1')
    assert tampered != body
    assert post_sandbox(client, tampered, signature).status_code == 400
    stale = sandbox_signature(body, timestamp=int(time.time()) - 3600)
    assert post_sandbox(client, body, stale).status_code == 400
    assert post_sandbox(client, body, sandbox_signature(body, secret="not-the-secret")).status_code == 400
    assert post_sandbox(client, body, "").status_code == 400
    assert post_sandbox(client, b"not json", sandbox_signature(b"not json")).status_code == 400
    assert nothing_written(purchase)


def test_sandbox_amount_mismatch_is_recorded_not_fulfilled(client, viewer):
    purchase = pending_purchase(viewer)
    response = post_sandbox(client, pay_body(purchase, amount_cents=1))
    assert response.status_code == 200
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PENDING
    assert WebhookEvent.objects.get().outcome.startswith("ignored: amount")


def test_unknown_event_types_are_recorded_and_ignored(client, viewer):
    body = sandbox_body("payout.weather_report", {"x": 1})
    response = post_sandbox(client, body)
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.event_type == "payout.weather_report" and event.outcome.startswith("ignored")
    assert not Transfer.objects.exists()


def test_unknown_provider_is_404(client):
    assert client.post("/webhooks/paypal/", data=b"{}", content_type="application/json").status_code == 404


def test_failed_effect_rolls_back_the_event_row_so_a_retry_applies_it(client, viewer, monkeypatch, ledger_clean):
    """The idempotency row must never be committed without its effect."""
    purchase = pending_purchase(viewer)
    body = pay_body(purchase)

    def boom(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr("marquee.billing.services.checkout._book_purchase", lambda *a, **k: boom())
    with pytest.raises(RuntimeError):
        post_sandbox(client, body)
    assert nothing_written(purchase)
    monkeypatch.undo()
    assert post_sandbox(client, body).json()["outcomes"] == ["fulfilled"]
    assert ledger.wallet_balance(viewer) == 100


# --- subscriptions through the sandbox: out of order, renewals, grace ---------------


def subscribe(client, viewer, performer):
    purchase = pending_purchase(
        viewer,
        product=Product.SUBSCRIPTION,
        performer=performer,
        tokens=0,
        pack="",
        amount_cents=999,
        description="club",
    )
    post_sandbox(client, pay_body(purchase, subscription="sub_1"))
    return Subscription.objects.get(provider_subscription_id="sub_1")


def sub_event(kind, **data):
    return sandbox_body(kind, {"subscription": "sub_1", **data})


def test_renewal_extends_and_never_moves_period_end_back(client, viewer, performer, ledger_clean):
    subscription = subscribe(client, viewer, performer)
    start_end = subscription.current_period_end
    later = start_end + datetime.timedelta(days=30)
    post_sandbox(client, sub_event("subscription.renewed", period_end=int(later.timestamp()), payment="inv_2"))
    subscription.refresh_from_db()
    assert abs(subscription.current_period_end - later) < datetime.timedelta(seconds=1)
    # An older renewal delivered late (out of order) books its money but does not shorten the period.
    post_sandbox(client, sub_event("subscription.renewed", period_end=int(start_end.timestamp()), payment="inv_1b"))
    subscription.refresh_from_db()
    assert abs(subscription.current_period_end - later) < datetime.timedelta(seconds=1)
    assert Transfer.objects.filter(kind="subscription").count() == 3
    assert ledger.performer_balances(performer)[AccountKind.PERFORMER_PENDING] == 3 * (999 * 60 // 100)


def test_late_events_never_revive_a_canceled_subscription(client, viewer, performer, ledger_clean):
    subscription = subscribe(client, viewer, performer)
    post_sandbox(client, sub_event("subscription.ended"))
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CANCELED
    period_end = subscription.current_period_end
    far = int((period_end + datetime.timedelta(days=60)).timestamp())
    post_sandbox(client, sub_event("subscription.renewed", period_end=far, payment="inv_late"))
    post_sandbox(client, sub_event("subscription.past_due"))
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CANCELED
    assert subscription.current_period_end == period_end


def test_past_due_keeps_access_through_the_grace_period(client, viewer, performer):
    from marquee.billing.selectors import has_active_subscription

    subscription = subscribe(client, viewer, performer)
    post_sandbox(client, sub_event("subscription.past_due"))
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.PAST_DUE
    Subscription.objects.filter(pk=subscription.pk).update(
        current_period_end=timezone.now() - datetime.timedelta(days=2)
    )
    assert has_active_subscription(viewer, performer)  # within 3 grace days
    Subscription.objects.filter(pk=subscription.pk).update(
        current_period_end=timezone.now() - datetime.timedelta(days=4)
    )
    assert not has_active_subscription(viewer, performer)
    # A renewal after the failure brings it back to active.
    post_sandbox(client, sub_event("subscription.renewed", payment="inv_3"))
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE and has_active_subscription(viewer, performer)


# --- Stripe (stripe.WebhookSignature.generate_signature_header) --------------------

STRIPE_SECRET = "whsec_test_secret"


@pytest.fixture
def stripe_on():
    with override_settings(STRIPE_SECRET_KEY="sk_test_x", STRIPE_WEBHOOK_SECRET=STRIPE_SECRET):
        yield


def stripe_event(kind, obj, event_id=None):
    return json.dumps(
        {"id": event_id or f"evt_{uuid.uuid4().hex}", "object": "event", "type": kind, "data": {"object": obj}}
    )


def post_stripe(client, payload: str, secret=STRIPE_SECRET, timestamp=None):
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp or int(time.time()))
    return client.post(
        "/webhooks/stripe/", data=payload, content_type="application/json", headers={"Stripe-Signature": header}
    )


def session(purchase, **extra):
    return {
        "id": "cs_1",
        "object": "checkout.session",
        "client_reference_id": str(purchase.reference),
        "payment_status": "paid",
        "payment_intent": "pi_1",
        "amount_total": purchase.amount_cents,
        **extra,
    }


def test_stripe_paid_session_fulfils_and_signature_failures_write_nothing(client, viewer, stripe_on, ledger_clean):
    purchase = pending_purchase(viewer, provider="stripe")
    payload = stripe_event("checkout.session.completed", session(purchase))
    assert post_stripe(client, payload.replace('"pi_1"', '"pi_2"'), timestamp=int(time.time())).status_code == 200
    # ^ a correctly signed (different) payload is fine; now the failures on a fresh purchase:
    other = pending_purchase(viewer, provider="stripe")
    bad = stripe_event("checkout.session.completed", session(other, payment_intent="pi_9"))
    header = stripe.WebhookSignature.generate_signature_header(bad, STRIPE_SECRET, timestamp=int(time.time()))
    tampered = bad.replace('"paid"', '"PAID"')
    r = client.post(
        "/webhooks/stripe/", data=tampered, content_type="application/json", headers={"Stripe-Signature": header}
    )
    assert r.status_code == 400
    assert post_stripe(client, bad, timestamp=int(time.time()) - 3600).status_code == 400
    assert post_stripe(client, bad, secret="whsec_wrong").status_code == 400
    other.refresh_from_db()
    assert other.status == Purchase.Status.PENDING
    assert WebhookEvent.objects.count() == 1
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID and ledger.wallet_balance(viewer) == 100


def test_stripe_duplicate_replay_and_unpaid_sessions(client, viewer, stripe_on, ledger_clean):
    purchase = pending_purchase(viewer, provider="stripe")
    unpaid = stripe_event("checkout.session.completed", session(purchase, payment_status="unpaid"))
    assert post_stripe(client, unpaid).status_code == 200
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PENDING  # fulfil only when paid
    paid = stripe_event("checkout.session.async_payment_succeeded", session(purchase), event_id="evt_paid")
    assert post_stripe(client, paid).json()["outcomes"] == ["fulfilled"]
    assert post_stripe(client, paid).json()["outcomes"] == ["duplicate"]
    replay = stripe_event("checkout.session.completed", session(purchase))
    assert post_stripe(client, replay).json()["outcomes"] == ["ignored: already settled"]
    assert ledger.wallet_balance(viewer) == 100
    # Refund by payment intent, then a dispute on the same charge: one reversal only.
    refund = stripe_event("charge.refunded", {"object": "charge", "payment_intent": "pi_1", "amount_refunded": 999})
    assert post_stripe(client, refund).json()["outcomes"] == ["refund"]
    dispute = stripe_event("charge.dispute.created", {"object": "dispute", "payment_intent": "pi_1"})
    assert post_stripe(client, dispute).json()["outcomes"] == ["ignored: not paid"]
    assert ledger.wallet_balance(viewer) == 0


def test_stripe_subscription_events_out_of_order(client, viewer, performer, stripe_on, ledger_clean):
    purchase = pending_purchase(
        viewer,
        provider="stripe",
        product=Product.SUBSCRIPTION,
        performer=performer,
        tokens=0,
        pack="",
        description="club",
    )
    post_stripe(client, stripe_event("checkout.session.completed", session(purchase, subscription="sub_S")))
    subscription = Subscription.objects.get(provider="stripe", provider_subscription_id="sub_S")
    end = int((subscription.current_period_end + datetime.timedelta(days=30)).timestamp())
    invoice = {
        "id": "in_2",
        "object": "invoice",
        "billing_reason": "subscription_cycle",
        "amount_paid": 999,
        "parent": {"subscription_details": {"subscription": "sub_S"}},
        "lines": {"data": [{"period": {"end": end}}]},
    }
    deleted = stripe_event("customer.subscription.deleted", {"id": "sub_S", "object": "subscription"})
    assert post_stripe(client, deleted).json()["outcomes"] == ["canceled"]
    # The renewal that happened before the deletion arrives afterwards.
    outcome = post_stripe(client, stripe_event("invoice.paid", invoice)).json()["outcomes"]
    assert outcome == ["booked; subscription stays canceled"]
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CANCELED
    assert subscription.current_period_end.timestamp() < end
    first = stripe_event("invoice.paid", {**invoice, "id": "in_1", "billing_reason": "subscription_create"})
    assert post_stripe(client, first).json()["outcomes"][0].startswith("ignored: unhandled")


# --- BTCPay Server (BTCPay-Sig: sha256=HMAC(body)) ----------------------------------

BTCPAY_SECRET = "btcpay-secret"


@pytest.fixture
def btcpay_on():
    with override_settings(
        BTCPAY_URL="https://btcpay.invalid", BTCPAY_API_KEY="k", BTCPAY_WEBHOOK_SECRET=BTCPAY_SECRET
    ):
        yield


def btcpay_body(purchase, kind="InvoiceSettled", delivery=None, original=None, timestamp=None):
    return json.dumps(
        {
            "deliveryId": delivery or uuid.uuid4().hex,
            "webhookId": "wh1",
            "originalDeliveryId": original,
            "isRedelivery": original is not None,
            "type": kind,
            "timestamp": timestamp or int(time.time()),
            "storeId": "store",
            "invoiceId": "inv_btc_1",
            "metadata": {"orderId": str(purchase.reference)},
        }
    ).encode()


def post_btcpay(client, body, secret=BTCPAY_SECRET, signature=None):
    signature = signature or "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        "/webhooks/btcpay/", data=body, content_type="application/json", headers={"BTCPay-Sig": signature}
    )


def test_btcpay_signatures_redeliveries_and_order(client, viewer, btcpay_on, ledger_clean):
    purchase = pending_purchase(viewer, provider="btcpay")
    body = btcpay_body(purchase, delivery="d1")
    assert post_btcpay(client, body.replace(b"InvoiceSettled", b"InvoiceSettlex"), signature=None).status_code == 200
    # ^ signed correctly, just an unknown type: recorded, ignored.
    WebhookEvent.objects.all().delete()
    signature = "sha256=" + hmac.new(BTCPAY_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert post_btcpay(client, body + b" ", signature=signature).status_code == 400  # tampered
    assert post_btcpay(client, body, secret="wrong").status_code == 400
    stale = btcpay_body(purchase, timestamp=int(time.time()) - 5 * 86400)
    assert post_btcpay(client, stale).status_code == 400
    assert nothing_written(purchase)
    # An expiry that arrives before the settlement (out of order) does not block it.
    expired = btcpay_body(purchase, kind="InvoiceExpired", delivery="d0")
    assert post_btcpay(client, expired).json()["outcomes"] == ["declined"]
    assert post_btcpay(client, body).json()["outcomes"] == ["fulfilled"]
    # A redelivery carries the original delivery id: no effect.
    redelivery = btcpay_body(purchase, delivery="d2", original="d1")
    assert post_btcpay(client, redelivery).json()["outcomes"] == ["duplicate"]
    assert post_btcpay(client, body).json()["outcomes"] == ["duplicate"]
    assert ledger.wallet_balance(viewer) == 100


# --- CCBill (no signature: IP allow-list + confirmation through its API) ------------


class FakeCCBill:
    """CCBill's transaction lookup, served through an httpx MockTransport so the
    real ``CCBillGateway.confirm()`` runs: it answers only for the token below
    and only about transactions it knows."""

    token = "ccbill-api-token"

    def __init__(self):
        self.transactions: dict[str, dict] = {}
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return httpx.Response(401, json={"error": "unauthorized"})
        prefix = "/api/transactions/"  # CCBILL_API_URL below + the lookup
        path = request.url.path
        record = self.transactions.get(path[len(prefix) :]) if path.startswith(prefix) else None
        return httpx.Response(200, json=record) if record else httpx.Response(404, json={"error": "not found"})


@pytest.fixture
def ccbill_on(monkeypatch):
    fake = FakeCCBill()
    monkeypatch.setattr("marquee.billing.gateways.ccbill.gateway.TRANSPORT", httpx.MockTransport(fake.handler))
    with override_settings(
        CCBILL_ACCOUNT="900000",
        CCBILL_FLEXFORM_ID="ff",
        CCBILL_SALT="salt",
        CCBILL_API_URL="https://ccbill.invalid/api",
        CCBILL_API_TOKEN=fake.token,
        CCBILL_WEBHOOK_ALLOWED_NETWORKS=[ipaddress.ip_network("198.51.100.0/24")],
    ):
        yield fake


def post_ccbill(client, data, ip="198.51.100.7"):
    return client.post("/webhooks/ccbill/", data=json.dumps(data), content_type="application/json", REMOTE_ADDR=ip)


def test_ccbill_allow_list_confirmation_and_duplicates(client, viewer, ccbill_on, ledger_clean):
    purchase = pending_purchase(viewer, provider="ccbill")
    sale = {
        "eventType": "NewSaleSuccess",
        "transactionId": "tx1",
        "timestamp": "2026-11-26 10:00:00",
        "X-purchase": str(purchase.reference),
        "billedInitialPrice": "9.99",
    }
    assert post_ccbill(client, sale, ip="203.0.113.9").status_code == 400  # not from CCBill
    assert not ccbill_on.requests  # refused before asking anyone
    assert post_ccbill(client, sale).status_code == 400  # CCBill does not know the transaction
    assert len(ccbill_on.requests) == 1
    assert nothing_written(purchase)
    ccbill_on.transactions["tx1"] = {"transactionId": "tx1", "X-purchase": str(purchase.reference), "amount": "9.99"}
    # The body claims another price than CCBill's record: not confirmed.
    assert post_ccbill(client, {**sale, "billedInitialPrice": "0.99"}).status_code == 400
    assert nothing_written(purchase)
    assert post_ccbill(client, sale).json()["outcomes"] == ["fulfilled"]
    assert post_ccbill(client, sale).json()["outcomes"] == ["duplicate"]
    chargeback = {"eventType": "Chargeback", "transactionId": "tx1", "timestamp": "2026-11-27 10:00:00"}
    assert post_ccbill(client, chargeback).json()["outcomes"] == ["chargeback"]
    assert ledger.wallet_balance(viewer) == 0
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.CHARGED_BACK


def test_ccbill_flexform_digest_matches_documented_md5():
    from marquee.billing.gateways import CheckoutRequest
    from marquee.billing.gateways.ccbill.gateway import CCBillGateway

    with override_settings(
        CCBILL_ACCOUNT="900000", CCBILL_SUBACCOUNT="0000", CCBILL_FLEXFORM_ID="ff", CCBILL_SALT="s4lt"
    ):
        url = (
            CCBillGateway()
            .start_checkout(CheckoutRequest("ref", "x", 999, "USD", False, "https://e.test/ok", "https://e.test/no"))
            .url
        )
    expected = hashlib.md5(b"9.99" + b"30" + b"840" + b"s4lt").hexdigest()
    assert f"formDigest={expected}" in url and "X-purchase=ref" in url

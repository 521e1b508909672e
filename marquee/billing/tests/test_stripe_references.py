"""Stripe events in the shapes Stripe really sends (built as ``stripe`` library
objects, signed with ``stripe.WebhookSignature``), with the references a real
checkout produces: the purchase first holds the Checkout Session id
(``cs_…``); refunds and disputes name the payment intent and the charge."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import stripe
from django.test import override_settings

from marquee.audit.models import AuditEvent
from marquee.billing import services
from marquee.billing.models import Purchase, WebhookEvent
from marquee.billing.tests.test_earnings import admin_action
from marquee.ledger import selectors as ledger
from marquee.ledger.models import Transfer
from marquee.lib.geo import UNKNOWN

pytestmark = pytest.mark.django_db
SECRET = "whsec_test_refs"
KEY = "sk_test_refs"


@pytest.fixture(autouse=True)
def stripe_on():
    with override_settings(STRIPE_SECRET_KEY=KEY, STRIPE_WEBHOOK_SECRET=SECRET):
        yield


def event(kind: str, obj: dict) -> str:
    """A Stripe ``Event`` as the library models it, serialized as sent."""
    built = stripe.Event.construct_from(
        {
            "id": f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
            "data": {"object": obj},
        },
        KEY,
    )
    return json.dumps(built.to_dict())


def post(client, payload: str):
    header = stripe.WebhookSignature.generate_signature_header(payload, SECRET, timestamp=int(time.time()))
    response = client.post(
        "/webhooks/stripe/", data=payload, content_type="application/json", headers={"Stripe-Signature": header}
    )
    assert response.status_code == 200, response.content
    return response.json()["outcomes"]


def checkout(viewer, monkeypatch, session_id="cs_test_a1B2c3"):
    """A real start_checkout: Stripe answers with a Checkout Session."""

    def create(**kwargs):
        assert kwargs["mode"] == "payment" and kwargs["client_reference_id"]
        return stripe.checkout.Session.construct_from(
            {"id": session_id, "object": "checkout.session", "url": f"https://checkout.stripe.com/c/pay/{session_id}"},
            KEY,
        )

    monkeypatch.setattr("stripe.checkout.Session.create", create)
    purchase, url = services.start_checkout(
        user=viewer,
        location=UNKNOWN,
        product="tokens",
        pack="small",
        provider="stripe",
        success_url_for=lambda p: "https://example.test/back",
    )
    purchase.refresh_from_db()
    assert purchase.provider_reference == session_id and url.startswith("https://checkout.stripe.com/")
    return purchase


def session_completed(purchase, session_id="cs_test_a1B2c3", payment_intent="pi_3Pq1"):
    return event(
        "checkout.session.completed",
        {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": "complete",
            "payment_status": "paid",
            "client_reference_id": str(purchase.reference),
            "metadata": {"purchase": str(purchase.reference)},
            "amount_subtotal": purchase.amount_cents,
            "amount_total": purchase.amount_cents,
            "currency": "usd",
            "customer": "cus_Q1",
            "invoice": None,
            "subscription": None,
            "payment_intent": payment_intent,
        },
    )


def charge_refunded(amount, amount_refunded, payment_intent="pi_3Pq1", charge="ch_3Pq1"):
    return event(
        "charge.refunded",
        {
            "id": charge,
            "object": "charge",
            "amount": amount,
            "amount_captured": amount,
            "amount_refunded": amount_refunded,
            "captured": True,
            "currency": "usd",
            "paid": True,
            "payment_intent": payment_intent,
            "refunded": amount_refunded == amount,
            "status": "succeeded",
        },
    )


def dispute_created(amount, payment_intent="pi_3Pq1", charge="ch_3Pq1"):
    return event(
        "charge.dispute.created",
        {
            "id": "dp_1Pq1",
            "object": "dispute",
            "amount": amount,
            "charge": charge,
            "currency": "usd",
            "payment_intent": payment_intent,
            "reason": "fraudulent",
            "status": "needs_response",
        },
    )


def test_fulfilment_stores_the_payment_intent_that_refunds_name(client, viewer, monkeypatch, ledger_clean):
    purchase = checkout(viewer, monkeypatch)
    assert post(client, session_completed(purchase)) == ["fulfilled"]
    purchase.refresh_from_db()
    assert purchase.provider_reference == "pi_3Pq1"
    assert ledger.wallet_balance(viewer) == 100
    assert post(client, charge_refunded(999, 999)) == ["refund"]
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.REFUNDED and ledger.wallet_balance(viewer) == 0
    # A dispute on the same charge afterwards: no second reversal.
    assert post(client, dispute_created(999)) == ["ignored: not paid"]
    assert Transfer.objects.filter(kind__in=["refund", "chargeback"]).count() == 1


def test_a_dispute_is_found_by_its_payment_intent_or_its_charge(client, viewer, monkeypatch, ledger_clean):
    purchase = checkout(viewer, monkeypatch)
    post(client, session_completed(purchase))
    assert post(client, dispute_created(999)) == ["chargeback"]
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.CHARGED_BACK
    # A charge refunded by its charge id alone (older integrations keep the charge).
    other = checkout(viewer, monkeypatch, session_id="cs_test_other")
    post(client, session_completed(other, session_id="cs_test_other", payment_intent="pi_other"))
    Purchase.objects.filter(pk=other.pk).update(provider_reference="ch_other")
    assert post(client, charge_refunded(999, 999, payment_intent="", charge="ch_other")) == ["refund"]


def test_a_partial_refund_is_flagged_for_staff_not_reversed(client, viewer, monkeypatch, ledger_clean):
    purchase = checkout(viewer, monkeypatch)
    post(client, session_completed(purchase))
    outcome = post(client, charge_refunded(999, 300))
    assert outcome[0].startswith("flagged: partial refund")
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID and ledger.wallet_balance(viewer) == 100
    assert not Transfer.objects.filter(kind="refund").exists()
    flag = AuditEvent.objects.get(action="billing.partial_refund_flagged")
    assert flag.details["refunded_cents"] == 300 and flag.details["amount_cents"] == 999
    assert WebhookEvent.objects.filter(outcome__startswith="flagged").count() == 1
    # Stripe's amount_refunded is cumulative: once it reaches the price, the purchase is reversed.
    assert post(client, charge_refunded(999, 999)) == ["refund"]
    assert ledger.wallet_balance(viewer) == 0


def test_staff_refund_asks_stripe_with_the_payment_intent_not_the_session(
    client, viewer, staff, monkeypatch, ledger_clean
):
    purchase = checkout(viewer, monkeypatch)
    post(client, session_completed(purchase))
    calls = []
    monkeypatch.setattr("stripe.Refund.create", lambda **kwargs: calls.append(kwargs))
    admin_action(staff, "refund_purchase", purchase)
    assert calls == [{"payment_intent": "pi_3Pq1", "amount": 999, "api_key": KEY}]
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID  # the webhook applies it
    assert post(client, charge_refunded(999, 999)) == ["refund"]


def test_a_subscription_payment_refund_is_found_by_its_invoice(client, viewer, performer, monkeypatch, ledger_clean):
    from marquee.billing.models import Subscription

    def create(**kwargs):
        assert kwargs["mode"] == "subscription"
        return stripe.checkout.Session.construct_from(
            {"id": "cs_test_sub", "object": "checkout.session", "url": "https://checkout.stripe.com/c/pay/cs_test_sub"},
            KEY,
        )

    monkeypatch.setattr("stripe.checkout.Session.create", create)
    purchase, _ = services.start_checkout(
        user=viewer,
        location=UNKNOWN,
        product="subscription",
        performer=performer,
        provider="stripe",
        success_url_for=lambda p: "https://example.test/back",
    )
    completed = json.loads(session_completed(purchase, session_id="cs_test_sub", payment_intent=None))
    completed["data"]["object"].update({"mode": "subscription", "invoice": "in_1Q", "subscription": "sub_1Q"})
    assert post(client, json.dumps(completed)) == ["fulfilled"]
    purchase.refresh_from_db()
    assert purchase.provider_reference == "in_1Q"
    refunded = json.loads(charge_refunded(purchase.amount_cents, purchase.amount_cents, payment_intent="pi_inv"))
    refunded["data"]["object"]["invoice"] = "in_1Q"
    assert post(client, json.dumps(refunded)) == ["refund"]
    subscription = Subscription.objects.get(provider_subscription_id="sub_1Q")
    assert subscription.status == Subscription.Status.CANCELED

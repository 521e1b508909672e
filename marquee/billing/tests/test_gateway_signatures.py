"""The gateways' own verification and normalization, called directly with
bodies signed the way each provider signs them (Stripe's own helper, HMAC
computed here with hashlib) and events in the shapes providers send."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
import json
import re
import time
from unittest import mock

import pytest
import stripe
from django.test import override_settings

from marquee.billing.gateways import (
    CheckoutRequest,
    EventType,
    GatewayNotConfigured,
    WebhookRejected,
    enabled_gateways,
    get_gateway,
)
from marquee.billing.gateways.btcpay.gateway import BTCPayGateway
from marquee.billing.gateways.ccbill.gateway import CCBillGateway
from marquee.billing.gateways.sandbox.gateway import SandboxGateway, build_event, sign
from marquee.billing.gateways.signing import hmac_hex, verify_timestamped
from marquee.billing.gateways.stripe.gateway import StripeGateway, normalize

SECRET = "s3cret"


def rejected(message: str):
    """The refusal and its exact reason (the reason is logged and answered)."""
    return pytest.raises(WebhookRejected, match=f"^{re.escape(message)}$")


BODY = b'{"id":"evt_1","type":"payment.succeeded","data":{}}'


def hmac_sha256(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def header(timestamp: int, body: bytes = BODY, secret: str = SECRET) -> str:
    return f"t={timestamp},v1={hmac_sha256(secret, f'{timestamp}.'.encode() + body)}"


# --- the shared "t=..,v1=.." scheme ---------------------------------------------------


def test_hmac_hex_is_hex_hmac_sha256():
    assert hmac_hex(SECRET, b"abc") == hmac_sha256(SECRET, b"abc")


def test_timestamped_signature_accepted_inside_the_window_on_both_sides():
    now = 1_800_000_000
    verify_timestamped(header(now), BODY, SECRET, 300, now=now)
    verify_timestamped(header(now - 300), BODY, SECRET, 300, now=now)
    verify_timestamped(header(now + 300), BODY, SECRET, 300, now=now)
    # Extra items and spaces-free unknown keys are ignored, as Stripe's v0 is.
    verify_timestamped(header(now) + ",v0=deadbeef,junk", BODY, SECRET, 300, now=now)


@pytest.mark.parametrize("offset", [-301, 301])
def test_timestamped_signature_outside_the_window_is_rejected(offset):
    now = 1_800_000_000
    with rejected("signature timestamp outside the tolerance window"):
        verify_timestamped(header(now + offset), BODY, SECRET, 300, now=now)


def test_timestamped_signature_uses_the_clock_when_no_now_is_given():
    verify_timestamped(header(int(time.time())), BODY, SECRET, 300)
    with rejected("signature timestamp outside the tolerance window"):
        verify_timestamped(header(int(time.time()) - 3600), BODY, SECRET, 300)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "v1=abc",
        "t=123",
        "t=abc,v1=abc",
        "t=123;v1=abc",
    ],
)
def test_malformed_signature_headers_are_rejected(bad):
    with rejected("malformed signature header"):
        verify_timestamped(bad, BODY, SECRET, 300, now=123)


def test_wrong_secret_tampered_body_and_missing_secret_are_rejected():
    now = int(time.time())
    with rejected("signature mismatch"):
        verify_timestamped(header(now, secret="other"), BODY, SECRET, 300, now=now)
    with rejected("signature mismatch"):
        verify_timestamped(header(now), BODY + b" ", SECRET, 300, now=now)
    with rejected("signature mismatch"):
        # The timestamp is signed too: moving it breaks the signature.
        verify_timestamped(header(now).replace(f"t={now}", f"t={now + 1}"), BODY, SECRET, 300, now=now)
    with rejected("webhook secret not configured"):
        verify_timestamped(header(now, secret=""), BODY, "", 300, now=now)


# --- sandbox ------------------------------------------------------------------------


@override_settings(SANDBOX_ENABLED=True, SANDBOX_WEBHOOK_SECRET=SECRET, WEBHOOK_TOLERANCE_SECONDS=300)
def test_sandbox_sign_and_build_event_produce_verifiable_events():
    assert sign(BODY, SECRET, timestamp=1000) == header(1000)
    body, headers = build_event("payment.succeeded", {"purchase": "p"}, event_id="evt_x")
    event = json.loads(body)
    assert event["id"] == "evt_x" and event["type"] == "payment.succeeded" and event["data"] == {"purchase": "p"}
    assert abs(event["created"] - time.time()) < 60
    timestamp = int(headers["Sandbox-Signature"].split(",")[0].removeprefix("t="))
    assert abs(timestamp - time.time()) < 60
    assert headers["Sandbox-Signature"] == header(timestamp, body)
    fresh, _ = build_event("payment.succeeded", {})
    assert json.loads(fresh)["id"].startswith("evt_") and json.loads(fresh)["id"] != "evt_x"


@override_settings(SANDBOX_ENABLED=True, SANDBOX_WEBHOOK_SECRET=SECRET, WEBHOOK_TOLERANCE_SECONDS=300)
def test_sandbox_event_normalized_field_by_field():
    data = {"purchase": "ref1", "payment": "pay1", "subscription": "sub1", "period_end": 1_900_000_000}
    body = json.dumps({"id": "evt_1", "type": "subscription.renewed", "data": {**data, "amount_cents": "999"}}).encode()
    (event,) = SandboxGateway().parse_webhook(
        body=body, headers={"Sandbox-Signature": header(int(time.time()), body)}, client_ip="203.0.113.1"
    )
    assert event.event_id == "evt_1"
    assert (event.type, event.raw_type) == (EventType.SUBSCRIPTION_RENEWED, "subscription.renewed")
    assert (event.purchase_reference, event.payment_reference, event.subscription_id) == ("ref1", "pay1", "sub1")
    assert event.period_end == datetime.datetime.fromtimestamp(1_900_000_000, tz=datetime.UTC)
    assert event.amount_cents == 999
    assert event.payload == json.loads(body)


@override_settings(SANDBOX_ENABLED=True, SANDBOX_WEBHOOK_SECRET=SECRET, WEBHOOK_TOLERANCE_SECONDS=300)
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("payment.succeeded", EventType.PAYMENT_SUCCEEDED),
        ("payment.declined", EventType.PAYMENT_FAILED),
        ("subscription.renewed", EventType.SUBSCRIPTION_RENEWED),
        ("subscription.past_due", EventType.SUBSCRIPTION_PAST_DUE),
        ("subscription.ended", EventType.SUBSCRIPTION_ENDED),
        ("refund.succeeded", EventType.REFUNDED),
        ("chargeback.created", EventType.CHARGEBACK),
        ("something.new", EventType.UNKNOWN),
    ],
)
def test_sandbox_event_types(raw, expected):
    body = json.dumps({"id": "e", "type": raw}).encode()
    (event,) = SandboxGateway().parse_webhook(
        body=body, headers={"Sandbox-Signature": header(int(time.time()), body)}, client_ip=""
    )
    assert event.type == expected
    assert (event.purchase_reference, event.period_end, event.amount_cents) == ("", None, None)
    assert (event.payment_reference, event.subscription_id) == ("", "")


@override_settings(SANDBOX_ENABLED=True, SANDBOX_WEBHOOK_SECRET=SECRET, WEBHOOK_TOLERANCE_SECONDS=300)
def test_sandbox_zero_amount_is_kept_and_stale_or_malformed_events_are_rejected():
    body = json.dumps({"id": "e", "type": "payment.succeeded", "data": {"amount_cents": 0}}).encode()
    (event,) = SandboxGateway().parse_webhook(
        body=body, headers={"Sandbox-Signature": header(int(time.time()), body)}, client_ip=""
    )
    assert event.amount_cents == 0
    stale = header(int(time.time()) - 301, body)
    with pytest.raises(WebhookRejected):
        SandboxGateway().parse_webhook(body=body, headers={"Sandbox-Signature": stale}, client_ip="")
    for bad in (b"not json", b'{"type": "x"}', b'{"id": "e", "type": "x", "data": [1]}', b"[]"):
        with rejected("malformed sandbox event"):
            SandboxGateway().parse_webhook(
                body=bad, headers={"Sandbox-Signature": header(int(time.time()), bad)}, client_ip=""
            )


@override_settings(SANDBOX_ENABLED=True, SANDBOX_WEBHOOK_SECRET=SECRET, WEBHOOK_TOLERANCE_SECONDS=300)
def test_sandbox_event_without_a_signature_header_is_refused_not_a_crash():
    with rejected("malformed signature header"):
        SandboxGateway().parse_webhook(body=BODY, headers={}, client_ip="")


@override_settings(SANDBOX_ENABLED=True, SANDBOX_WEBHOOK_SECRET=SECRET, WEBHOOK_TOLERANCE_SECONDS=300)
def test_sandbox_stale_uses_the_configured_tolerance():
    body = BODY
    with override_settings(WEBHOOK_TOLERANCE_SECONDS=3600):
        SandboxGateway().parse_webhook(
            body=body, headers={"Sandbox-Signature": header(int(time.time()) - 1800, body)}, client_ip=""
        )


def test_sandbox_checkout_is_the_local_hosted_page():
    reference = "0b7f3c2e-1d4a-4c5e-9f00-123456789abc"
    request = CheckoutRequest(reference, "100 tokens", 999, "USD", False, "https://e.test/ok", "https://e.test/no")
    session = SandboxGateway().start_checkout(request)
    assert session.url == f"/billing/sandbox/{reference}/"
    assert session.provider_reference == ""


def test_sandbox_is_enabled_only_with_a_secret_and_the_switch():
    with override_settings(SANDBOX_ENABLED=True, SANDBOX_WEBHOOK_SECRET=SECRET):
        assert SandboxGateway().is_enabled()
        assert get_gateway("sandbox").name == "sandbox"
    with override_settings(SANDBOX_ENABLED=True, SANDBOX_WEBHOOK_SECRET=""):
        assert not SandboxGateway().is_enabled()
        with pytest.raises(GatewayNotConfigured):
            get_gateway("sandbox")
        assert get_gateway("sandbox", require_enabled=False).name == "sandbox"
    with override_settings(SANDBOX_ENABLED=False, SANDBOX_WEBHOOK_SECRET=SECRET):
        assert not SandboxGateway().is_enabled()
        assert "sandbox" not in [g.name for g in enabled_gateways()]
    with pytest.raises(GatewayNotConfigured, match=r"^payment provider 'nope' is not enabled$"):
        get_gateway("nope", require_enabled=False)


# --- Stripe -------------------------------------------------------------------------

STRIPE_SECRET = "whsec_unit"


def stripe_post(payload: dict, secret=STRIPE_SECRET, timestamp=None):
    body = json.dumps(payload)
    signed = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp or int(time.time()))
    return StripeGateway().parse_webhook(body=body.encode(), headers={"Stripe-Signature": signed}, client_ip="")


@override_settings(STRIPE_SECRET_KEY="sk_test", STRIPE_WEBHOOK_SECRET=STRIPE_SECRET, WEBHOOK_TOLERANCE_SECONDS=300)
def test_stripe_signature_checked_with_the_configured_secret_and_tolerance():
    event = {"id": "evt_1", "object": "event", "type": "ping", "data": {"object": {}}}
    (parsed,) = stripe_post(event)
    assert (parsed.event_id, parsed.type, parsed.raw_type) == ("evt_1", EventType.UNKNOWN, "ping")
    with pytest.raises(WebhookRejected, match="signature"):
        stripe_post(event, secret="whsec_other")
    with pytest.raises(WebhookRejected, match="signature"):
        stripe_post(event, timestamp=int(time.time()) - 301)
    with override_settings(WEBHOOK_TOLERANCE_SECONDS=3600):
        stripe_post(event, timestamp=int(time.time()) - 1800)
    with pytest.raises(WebhookRejected, match="signature"):
        StripeGateway().parse_webhook(body=b"{}", headers={}, client_ip="")
    with rejected("malformed Stripe event"):
        body = "not json"
        signed = stripe.WebhookSignature.generate_signature_header(body, STRIPE_SECRET, timestamp=int(time.time()))
        StripeGateway().parse_webhook(body=body.encode(), headers={"Stripe-Signature": signed}, client_ip="")


@override_settings(STRIPE_SECRET_KEY="sk_test", STRIPE_WEBHOOK_SECRET="")
def test_stripe_without_webhook_secret_rejects_everything_and_is_off():
    assert not StripeGateway().is_enabled()
    with rejected("webhook secret not configured"):
        StripeGateway().parse_webhook(body=b"{}", headers={"Stripe-Signature": "t=1,v1=x"}, client_ip="")
    with override_settings(STRIPE_SECRET_KEY="", STRIPE_WEBHOOK_SECRET="whsec"):
        assert not StripeGateway().is_enabled()
    with override_settings(STRIPE_SECRET_KEY="sk", STRIPE_WEBHOOK_SECRET="whsec"):
        assert StripeGateway().is_enabled()


def stripe_event(kind, obj):
    return {"id": "evt_9", "object": "event", "type": kind, "data": {"object": obj}}


def test_stripe_checkout_completed_paid_and_unpaid():
    session = {
        "id": "cs_1",
        "object": "checkout.session",
        "client_reference_id": "ref1",
        "payment_status": "paid",
        "payment_intent": "pi_1",
        "subscription": "sub_1",
        "amount_total": 999,
    }
    event = normalize(stripe_event("checkout.session.completed", session))
    assert (event.type, event.purchase_reference, event.payment_reference) == (
        EventType.PAYMENT_SUCCEEDED,
        "ref1",
        "pi_1",
    )
    assert (event.subscription_id, event.amount_cents, event.event_id) == ("sub_1", 999, "evt_9")
    assert event.raw_type == "checkout.session.completed"
    # Subscription mode: no payment intent, the invoice is the payment.
    sub = normalize(
        stripe_event("checkout.session.async_payment_succeeded", {**session, "payment_intent": None, "invoice": "in_1"})
    )
    assert (sub.type, sub.payment_reference) == (EventType.PAYMENT_SUCCEEDED, "in_1")
    free = normalize(
        stripe_event(
            "checkout.session.completed",
            {"id": "cs_2", "payment_status": "no_payment_required", "client_reference_id": "r"},
        )
    )
    assert (free.type, free.payment_reference, free.subscription_id) == (EventType.PAYMENT_SUCCEEDED, "cs_2", "")
    assert free.purchase_reference == "r"
    unpaid = normalize(stripe_event("checkout.session.completed", {**session, "payment_status": "unpaid"}))
    assert (unpaid.type, unpaid.purchase_reference) == (EventType.UNKNOWN, "")
    failed = normalize(stripe_event("checkout.session.async_payment_failed", session))
    assert (failed.type, failed.purchase_reference) == (EventType.PAYMENT_FAILED, "ref1")
    # Fields Stripe leaves out become empty strings, never "None" or a placeholder.
    bare = normalize(stripe_event("checkout.session.completed", {"payment_status": "paid"}))
    assert (bare.purchase_reference, bare.payment_reference, bare.subscription_id) == ("", "", "")
    bare_failed = normalize(stripe_event("checkout.session.async_payment_failed", {}))
    assert bare_failed.purchase_reference == ""


def test_stripe_invoices_subscriptions_refunds_disputes():
    end = 1_900_000_000
    invoice = {
        "id": "in_2",
        "object": "invoice",
        "billing_reason": "subscription_cycle",
        "amount_paid": 999,
        "subscription": "sub_old_api",
        "lines": {"data": [{"period": {"end": end}}]},
    }
    renewed = normalize(stripe_event("invoice.paid", invoice))
    assert (renewed.type, renewed.payment_reference, renewed.subscription_id) == (
        EventType.SUBSCRIPTION_RENEWED,
        "in_2",
        "sub_old_api",
    )
    assert renewed.period_end == datetime.datetime.fromtimestamp(end, tz=datetime.UTC)
    assert renewed.amount_cents == 999
    no_lines = normalize(
        stripe_event(
            "invoice.paid",
            {
                "id": "in_3",
                "billing_reason": "subscription_cycle",
                "period_end": end + 1,
                "parent": {"subscription_details": {"subscription": "sub_new_api"}},
            },
        )
    )
    assert no_lines.period_end == datetime.datetime.fromtimestamp(end + 1, tz=datetime.UTC)
    assert no_lines.subscription_id == "sub_new_api"
    undated = normalize(stripe_event("invoice.paid", {"id": "in_4", "billing_reason": "manual"}))
    assert (undated.type, undated.period_end, undated.subscription_id) == (EventType.SUBSCRIPTION_RENEWED, None, "")
    first = normalize(stripe_event("invoice.paid", {**invoice, "billing_reason": "subscription_create"}))
    assert first.type == EventType.UNKNOWN
    past_due = normalize(stripe_event("invoice.payment_failed", invoice))
    assert (past_due.type, past_due.subscription_id) == (EventType.SUBSCRIPTION_PAST_DUE, "sub_old_api")
    ended = normalize(stripe_event("customer.subscription.deleted", {"id": "sub_1", "object": "subscription"}))
    assert (ended.type, ended.subscription_id) == (EventType.SUBSCRIPTION_ENDED, "sub_1")
    refund = normalize(stripe_event("charge.refunded", {"id": "ch_1", "payment_intent": "pi_1", "amount_refunded": 5}))
    assert (refund.type, refund.payment_reference, refund.amount_cents) == (EventType.REFUNDED, "pi_1", 5)
    invoice_refund = normalize(stripe_event("charge.refunded", {"id": "ch_2", "invoice": "in_9"}))
    # A charge names its payment intent; the charge and invoice ids are the other references.
    assert (invoice_refund.payment_reference, invoice_refund.other_references) == ("", ("ch_2", "in_9"))
    dispute = normalize(stripe_event("charge.dispute.created", {"id": "dp_1", "payment_intent": "pi_7"}))
    assert (dispute.type, dispute.payment_reference) == (EventType.CHARGEBACK, "pi_7")
    assert normalize(stripe_event("invoice.paid", {"billing_reason": "manual"})).payment_reference == ""
    assert normalize(stripe_event("customer.subscription.deleted", {})).subscription_id == ""
    assert normalize(stripe_event("charge.refunded", {})).payment_reference == ""
    assert normalize(stripe_event("charge.dispute.created", {})).payment_reference == ""
    empty = normalize({"id": "evt_0", "type": "invoice.payment_failed", "data": {}})
    assert (empty.type, empty.subscription_id) == (EventType.SUBSCRIPTION_PAST_DUE, "")


@override_settings(STRIPE_SECRET_KEY="sk_test", STRIPE_WEBHOOK_SECRET=STRIPE_SECRET)
def test_stripe_checkout_refund_and_cancel_send_what_stripe_expects():
    request = CheckoutRequest(
        "ref1", "100 tokens", 999, "USD", False, "https://e.test/ok", "https://e.test/no", "a@b.c"
    )
    with mock.patch("stripe.checkout.Session.create", return_value=mock.Mock(url="https://pay", id="cs_1")) as create:
        session = StripeGateway().start_checkout(request)
    assert (session.url, session.provider_reference) == ("https://pay", "cs_1")
    kwargs = create.call_args.kwargs
    assert kwargs["mode"] == "payment" and kwargs["api_key"] == "sk_test"
    assert kwargs["line_items"] == [
        {"price_data": {"currency": "usd", "unit_amount": 999, "product_data": {"name": "100 tokens"}}, "quantity": 1}
    ]
    assert kwargs["client_reference_id"] == "ref1" and kwargs["metadata"] == {"purchase": "ref1"}
    assert kwargs["customer_email"] == "a@b.c"
    assert (kwargs["success_url"], kwargs["cancel_url"]) == ("https://e.test/ok", "https://e.test/no")
    monthly = CheckoutRequest("ref2", "club", 500, "USD", True, "https://e.test/ok", "https://e.test/no")
    with mock.patch("stripe.checkout.Session.create", return_value=mock.Mock(url="u", id="i")) as create:
        StripeGateway().start_checkout(monthly)
    kwargs = create.call_args.kwargs
    assert kwargs["mode"] == "subscription" and kwargs["customer_email"] is None
    assert kwargs["line_items"][0]["price_data"]["recurring"] == {"interval": "month"}
    with mock.patch("stripe.Subscription.modify") as modify:
        StripeGateway().cancel_subscription("sub_1")
    modify.assert_called_once_with("sub_1", cancel_at_period_end=True, api_key="sk_test")
    with mock.patch("stripe.Refund.create") as refund:
        StripeGateway().refund("pi_1", 250)
    refund.assert_called_once_with(payment_intent="pi_1", amount=250, api_key="sk_test")


# --- BTCPay -------------------------------------------------------------------------

BTCPAY_SECRET = "btc-secret"


def btcpay_parse(event: dict, secret=BTCPAY_SECRET, signature=None):
    body = json.dumps(event).encode()
    signature = signature if signature is not None else f"sha256={hmac_sha256(secret, body)}"
    return BTCPayGateway().parse_webhook(body=body, headers={"BTCPay-Sig": signature}, client_ip="")


def btcpay_event(**extra):
    return {
        "deliveryId": "d1",
        "webhookId": "wh",
        "originalDeliveryId": None,
        "isRedelivery": False,
        "type": "InvoiceSettled",
        "timestamp": int(time.time()),
        "storeId": "store",
        "invoiceId": "inv_1",
        "metadata": {"orderId": "ref1"},
        **extra,
    }


@override_settings(BTCPAY_URL="https://btcpay.invalid", BTCPAY_API_KEY="k", BTCPAY_WEBHOOK_SECRET=BTCPAY_SECRET)
def test_btcpay_event_normalized_and_redelivery_keeps_the_first_id():
    (event,) = btcpay_parse(btcpay_event())
    assert (event.event_id, event.type, event.raw_type) == ("d1", EventType.PAYMENT_SUCCEEDED, "InvoiceSettled")
    assert (event.purchase_reference, event.payment_reference) == ("ref1", "inv_1")
    (again,) = btcpay_parse(btcpay_event(deliveryId="d2", originalDeliveryId="d1", isRedelivery=True))
    assert again.event_id == "d1"
    assert btcpay_parse(btcpay_event(type="InvoiceExpired"))[0].type == EventType.PAYMENT_FAILED
    assert btcpay_parse(btcpay_event(type="InvoiceInvalid"))[0].type == EventType.PAYMENT_FAILED
    assert btcpay_parse(btcpay_event(type="InvoiceCreated"))[0].type == EventType.UNKNOWN
    assert event.payload == btcpay_event() | {"timestamp": event.payload["timestamp"]}
    bare_event = btcpay_event(metadata=None)
    del bare_event["invoiceId"]
    (bare,) = btcpay_parse(bare_event)
    assert (bare.purchase_reference, bare.payment_reference) == ("", "")


@override_settings(BTCPAY_URL="https://btcpay.invalid", BTCPAY_API_KEY="k", BTCPAY_WEBHOOK_SECRET=BTCPAY_SECRET)
def test_btcpay_signature_age_and_shape_are_checked():
    with rejected("signature mismatch"):
        btcpay_parse(btcpay_event(), secret="other")
    body = json.dumps(btcpay_event()).encode()
    with rejected("signature mismatch"):
        # The bare hex without the scheme prefix is not BTCPay's header.
        btcpay_parse(btcpay_event(), signature=hmac_sha256(BTCPAY_SECRET, body))
    three_days = 3 * 86400
    now = 1_800_000_000
    with mock.patch("marquee.billing.gateways.btcpay.gateway.time.time", return_value=now):
        btcpay_parse(btcpay_event(timestamp=now - three_days))  # exactly the limit: still accepted
        with rejected("event too old"):
            btcpay_parse(btcpay_event(timestamp=now - three_days - 1))
    btcpay_parse(btcpay_event(timestamp=int(time.time()) - three_days + 60))
    with rejected("event too old"):
        btcpay_parse(btcpay_event(timestamp=int(time.time()) - three_days - 60))
    with rejected("malformed BTCPay event"):
        btcpay_parse({"type": "InvoiceSettled", "timestamp": int(time.time())})  # no delivery id
    with rejected("malformed BTCPay event"):
        btcpay_parse(btcpay_event(metadata=["not", "a", "dict"]))
    with override_settings(BTCPAY_WEBHOOK_SECRET=""), rejected("webhook secret not configured"):
        btcpay_parse(btcpay_event(), secret="")


def test_btcpay_enabled_only_when_fully_configured():
    configured = {"BTCPAY_URL": "u", "BTCPAY_API_KEY": "k", "BTCPAY_WEBHOOK_SECRET": "s"}
    with override_settings(**configured):
        assert BTCPayGateway().is_enabled()
    for missing in configured:
        with override_settings(**{**configured, missing: ""}):
            assert not BTCPayGateway().is_enabled()


@override_settings(BTCPAY_URL="https://btcpay.invalid/", BTCPAY_API_KEY="key1", BTCPAY_STORE_ID="st")
def test_btcpay_invoice_and_refund_requests():
    response = mock.Mock(status_code=200)
    response.json.return_value = {"id": "inv_1", "checkoutLink": "https://btcpay.invalid/i/inv_1"}
    request = CheckoutRequest("ref1", "100 tokens", 999, "USD", False, "https://e.test/ok", "https://e.test/no")
    with mock.patch("httpx.post", return_value=response) as post:
        session = BTCPayGateway().start_checkout(request)
    assert (session.url, session.provider_reference) == ("https://btcpay.invalid/i/inv_1", "inv_1")
    (url,), kwargs = post.call_args
    assert url == "https://btcpay.invalid/api/v1/stores/st/invoices"
    assert kwargs["headers"] == {"Authorization": "token key1"}
    assert kwargs["json"] == {
        "amount": "9.99",
        "currency": "USD",
        "metadata": {"orderId": "ref1", "itemDesc": "100 tokens"},
        "checkout": {"redirectURL": "https://e.test/ok"},
    }
    response.raise_for_status.assert_called_once()
    assert 0 < kwargs["timeout"] <= 30  # a hung provider must not hang the request
    with pytest.raises(ValueError, match=r"^BTCPay has no recurring payments$"):
        BTCPayGateway().start_checkout(
            CheckoutRequest("r", "club", 500, "USD", True, "https://e.test/ok", "https://e.test/no")
        )
    with mock.patch("httpx.post", return_value=response) as post:
        BTCPayGateway().refund("inv_1", 999)
    (url,), kwargs = post.call_args
    assert url == "https://btcpay.invalid/api/v1/stores/st/invoices/inv_1/refund"
    assert kwargs["headers"] == {"Authorization": "token key1"} and kwargs["json"] == {"refundVariant": "Fiat"}
    assert 0 < kwargs["timeout"] <= 30
    with pytest.raises(NotImplementedError, match=r"^BTCPay has no subscriptions$"):
        BTCPayGateway().cancel_subscription("x")


# --- CCBill -------------------------------------------------------------------------

CCBILL = {
    "CCBILL_ACCOUNT": "900000",
    "CCBILL_SUBACCOUNT": "0000",
    "CCBILL_FLEXFORM_ID": "ff",
    "CCBILL_SALT": "s4lt",
    "CCBILL_WEBHOOK_ALLOWED_NETWORKS": [ipaddress.ip_network("198.51.100.0/24")],
}


def ccbill_parse(body: bytes, ip="198.51.100.7", headers=None):
    with mock.patch.object(CCBillGateway, "confirm", return_value=True):
        return CCBillGateway().parse_webhook(body=body, headers=headers or {}, client_ip=ip)


@override_settings(**CCBILL)
def test_ccbill_source_address_must_be_in_the_allow_list():
    body = json.dumps({"eventType": "NewSaleSuccess", "transactionId": "tx"}).encode()
    for ip in ("203.0.113.9", "not-an-ip", "", "198.51.101.1"):
        with rejected("source address not in CCBILL_WEBHOOK_ALLOWED_NETWORKS"):
            ccbill_parse(body, ip=ip)
    assert ccbill_parse(body, ip="198.51.100.255")[0].payment_reference == "tx"


@override_settings(**CCBILL)
def test_ccbill_json_event_normalized():
    body = json.dumps(
        {
            "eventType": "RenewalSuccess",
            "transactionId": "tx2",
            "subscriptionId": "sub9",
            "timestamp": "2026-11-26 10:00:00",
            "X-purchase": "ref1",
            "accountingAmount": "19.99",
            "nextRenewalDate": "2026-12-26",
        }
    ).encode()
    (event,) = ccbill_parse(body)
    assert event.event_id == "RenewalSuccess:tx2:2026-11-26 10:00:00"
    assert (event.type, event.raw_type) == (EventType.SUBSCRIPTION_RENEWED, "RenewalSuccess")
    assert (event.purchase_reference, event.payment_reference, event.subscription_id) == ("ref1", "tx2", "sub9")
    assert event.period_end == datetime.datetime(2026, 12, 26, tzinfo=datetime.UTC)
    assert event.amount_cents == 1999
    assert event.payload["X-purchase"] == "ref1"


@override_settings(**CCBILL)
def test_ccbill_form_encoded_event_and_header_type():
    body = b"transactionId=&subscriptionId=sub1&timestamp=t1&amount=0.29&renewalDate=2027-01-02"
    (event,) = ccbill_parse(body, headers={"X-CCBill-Event-Type": "Cancellation"})
    assert event.event_id == "Cancellation:sub1:t1"
    assert event.type == EventType.SUBSCRIPTION_ENDED
    assert event.amount_cents == 29  # 0.29 * 100 is 28.999...: rounded, not truncated
    assert event.period_end == datetime.datetime(2027, 1, 2, tzinfo=datetime.UTC)
    (no_amount,) = ccbill_parse(b"eventType=Expiration&subscriptionId=s")
    assert (no_amount.type, no_amount.amount_cents, no_amount.period_end) == (EventType.SUBSCRIPTION_ENDED, None, None)
    assert (no_amount.purchase_reference, no_amount.payment_reference) == ("", "")
    assert no_amount.event_id == "Expiration:s:"
    (blank,) = ccbill_parse(json.dumps({"eventType": "Refund", "transactionId": "t", "amount": ""}).encode())
    assert blank.amount_cents is None


@override_settings(**CCBILL)
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("NewSaleSuccess", EventType.PAYMENT_SUCCEEDED),
        ("NewSaleFailure", EventType.PAYMENT_FAILED),
        ("RenewalFailure", EventType.SUBSCRIPTION_PAST_DUE),
        ("Refund", EventType.REFUNDED),
        ("Chargeback", EventType.CHARGEBACK),
        ("UserReactivation", EventType.UNKNOWN),
    ],
)
def test_ccbill_event_types(raw, expected):
    (event,) = ccbill_parse(json.dumps({"eventType": raw, "transactionId": "t"}).encode())
    assert (event.type, event.subscription_id) == (expected, "")


@override_settings(**CCBILL)
def test_ccbill_malformed_events_are_rejected():
    for bad in (b"{not json", b'{"transactionId": "t"}', b"transactionId=t", b"\xff\xfe", b'{"eventType": "Refund", '):
        with rejected("malformed CCBill event"):
            ccbill_parse(bad)
    with rejected("malformed CCBill event"):
        ccbill_parse(json.dumps({"eventType": "Refund", "amount": "lots"}).encode())
    with rejected("malformed CCBill event"):
        ccbill_parse(json.dumps({"eventType": "RenewalSuccess", "renewalDate": "someday"}).encode())


@override_settings(**CCBILL)
def test_ccbill_unknown_events_need_no_confirmation_known_ones_do():
    body = json.dumps({"eventType": "UserReactivation", "transactionId": "t"}).encode()
    with mock.patch.object(CCBillGateway, "confirm", return_value=False) as confirm:
        assert CCBillGateway().parse_webhook(body=body, headers={}, client_ip="198.51.100.1")[0].type == "unknown"
    confirm.assert_not_called()
    known = json.dumps({"eventType": "Refund", "transactionId": "tx7"}).encode()
    with (
        mock.patch.object(CCBillGateway, "confirm", autospec=True, return_value=False) as confirm,
        rejected("transaction could not be confirmed with CCBill"),
    ):
        CCBillGateway().parse_webhook(body=known, headers={}, client_ip="198.51.100.1")
    (_, asked), _ = confirm.call_args
    assert (asked.type, asked.payment_reference) == (EventType.REFUNDED, "tx7")


def test_ccbill_enabled_only_when_fully_configured_and_digest_of_recurring_form():
    with override_settings(**CCBILL):
        assert CCBillGateway().is_enabled()
        url = (
            CCBillGateway()
            .start_checkout(CheckoutRequest("ref", "club", 1000, "USD", True, "https://e.test/ok", "https://e.test/no"))
            .url
        )
    for missing in ("CCBILL_ACCOUNT", "CCBILL_FLEXFORM_ID", "CCBILL_SALT"):
        with override_settings(**{**CCBILL, missing: ""}):
            assert not CCBillGateway().is_enabled()
    assert url.startswith("https://api.ccbill.com/wap-frontflex/flexforms/ff?")
    expected = hashlib.md5(b"10.00" + b"30" + b"10.00" + b"30" + b"99" + b"840" + b"s4lt").hexdigest()
    for part in (
        f"formDigest={expected}",
        "clientAccnum=900000",
        "clientSubacc=0000",
        "initialPrice=10.00",
        "initialPeriod=30",
        "recurringPrice=10.00",
        "recurringPeriod=30",
        "numRebills=99",
        "currencyCode=840",
        "X-purchase=ref",
    ):
        assert part in url.split("?", 1)[1].split("&")
    with pytest.raises(NotImplementedError, match="CCBill admin"):
        CCBillGateway().refund("tx", 100)
    assert CCBillGateway().cancel_subscription("sub") is None

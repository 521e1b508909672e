"""PayPal: webhooks signed with a certificate the tests create and serve from
a local fake of PayPal's REST endpoints (no network); order capture and the
subscription lifecycle against the same fake.  The ledger invariants are
checked after every test (root conftest)."""

from __future__ import annotations

import datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from marquee.audit.models import AuditEvent
from marquee.billing.gateways import get_gateway
from marquee.billing.gateways.paypal import client as paypal_client
from marquee.billing.models import Purchase, Subscription, WebhookEvent
from marquee.billing.selectors import has_active_subscription, has_show_ticket
from marquee.billing.tests import paypal_fake as pp
from marquee.ledger import selectors as ledger
from marquee.ledger.models import AccountKind, Transfer
from tests.factories import ShowFactory

pytestmark = pytest.mark.django_db
PENDING = AccountKind.PERFORMER_PENDING


@pytest.fixture
def fake(monkeypatch, settings):
    fake = pp.FakePayPal()
    monkeypatch.setattr(paypal_client, "TRANSPORT", httpx.MockTransport(fake))
    settings.PAYPAL_ENABLED = True
    settings.PAYPAL_CLIENT_ID = pp.CLIENT_ID
    settings.PAYPAL_CLIENT_SECRET = pp.CLIENT_SECRET
    settings.PAYPAL_WEBHOOK_ID = pp.WEBHOOK_ID
    settings.PAYPAL_API_URL = pp.API_URL
    # Only in tests: the allowed certificate host is the local fake.
    settings.PAYPAL_CERT_HOSTS = [pp.API_HOST]
    return fake


def post(client, body: bytes, **signing):
    headers = signing.pop("headers") if "headers" in signing else pp.sign_headers(body, **signing)
    return client.post("/webhooks/paypal/", data=body, content_type="application/json", headers=headers)


def outcomes(response):
    assert response.status_code == 200, response.content
    return response.json()["outcomes"]


def checkout(client, **body):
    response = client.post("/api/v1/checkout/", {"provider": "paypal", **body}, content_type="application/json")
    assert response.status_code == 201, response.content
    return Purchase.objects.get(reference=response.json()["purchase"]["reference"]), response.json()["url"]


def buy_ticket(client, fake, viewer, show):
    client.force_login(viewer)
    purchase, url = checkout(client, product="ticket", show=show.pk, next="/rooms/performer/")
    order_id = parse_qs(urlsplit(url).query)["token"][0]
    fake.approve_order(order_id)
    back = client.get(f"/billing/paypal/{purchase.reference}/return/?token={order_id}&PayerID=QYR5Z8XDVJNXQ")
    assert back.status_code == 302 and back["Location"] == f"/billing/checkout/{purchase.reference}/return/"
    purchase.refresh_from_db()
    return purchase, order_id


# --- documented event shapes --------------------------------------------------------


def capture_completed(capture: dict, **event):
    resource = {
        **capture,
        "seller_protection": {"status": "ELIGIBLE", "dispute_categories": ["ITEM_NOT_RECEIVED"]},
        "seller_receivable_breakdown": {"gross_amount": capture["amount"]},
        "update_time": pp.iso(timezone.now()),
    }
    return pp.event("PAYMENT.CAPTURE.COMPLETED", "capture", resource, **event)


def capture_reversal(kind: str, capture_id: str, value: str):
    refund_id = "1Y107995YT783435V"
    return pp.event(
        f"PAYMENT.CAPTURE.{kind}",
        "refund",
        {
            "id": refund_id,
            "status": "COMPLETED",
            "amount": {"currency_code": "USD", "value": value},
            "seller_payable_breakdown": {"total_refunded_amount": {"currency_code": "USD", "value": value}},
            "links": [
                {"href": f"{pp.API_URL}/v2/payments/refunds/{refund_id}", "rel": "self", "method": "GET"},
                {"href": f"{pp.API_URL}/v2/payments/captures/{capture_id}", "rel": "up", "method": "GET"},
            ],
        },
    )


def dispute_created(transaction_id: str):
    return pp.event(
        "CUSTOMER.DISPUTE.CREATED",
        "dispute",
        {
            "dispute_id": "PP-000-042-663-135",
            "disputed_transactions": [
                {"seller_transaction_id": transaction_id, "seller": {"merchant_id": "RD465XN5VS364"}, "items": []}
            ],
            "reason": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
            "status": "OPEN",
            "dispute_amount": {"currency_code": "USD", "value": "7.99"},
            "dispute_life_cycle_stage": "INQUIRY",
            "dispute_channel": "INTERNAL",
        },
    )


def order_approved(order: dict):
    return pp.event("CHECKOUT.ORDER.APPROVED", "checkout-order", {**order, "status": "APPROVED"})


def subscription_event(kind: str, subscription: dict, status: str):
    return pp.event(
        f"BILLING.SUBSCRIPTION.{kind}",
        "subscription",
        {**subscription, "status": status, "billing_info": {"failed_payments_count": 0}},
    )


def sale_completed(subscription_id: str, sale_id: str, created: datetime.datetime, total: str = "9.99"):
    return pp.event(
        "PAYMENT.SALE.COMPLETED",
        "sale",
        {
            "id": sale_id,
            "state": "completed",
            "billing_agreement_id": subscription_id,
            "amount": {"total": total, "currency": "USD", "details": {"subtotal": total}},
            "payment_mode": "INSTANT_TRANSFER",
            "protection_eligibility": "ELIGIBLE",
            "create_time": pp.iso(created),
            "update_time": pp.iso(created),
            "links": [{"href": f"{pp.API_URL}/v1/payments/sale/{sale_id}", "rel": "self", "method": "GET"}],
        },
    )


def sale_refunded(sale_id: str):
    return pp.event(
        "PAYMENT.SALE.REFUNDED",
        "refund",
        {
            "id": "6YX43824R4443062K",
            "state": "completed",
            "sale_id": sale_id,
            "amount": {"total": "-9.99", "currency": "USD"},
            "links": [{"href": f"{pp.API_URL}/v1/payments/sale/{sale_id}", "rel": "sale", "method": "GET"}],
        },
    )


# --- one-time purchases: Orders v2 ------------------------------------------------


def test_ticket_bought_through_paypal_capture_on_return_then_refunded_from_admin(
    client, fake, viewer, performer, staff, django_capture_on_commit_callbacks
):
    show = ShowFactory(performer=performer, kind="premium", price_cents=799, status="live")
    client.force_login(viewer)
    purchase, url = checkout(client, product="ticket", show=show.pk, next="/rooms/performer/")
    assert url.startswith("https://www.paypal.test/checkoutnow?token=")
    order_id = parse_qs(urlsplit(url).query)["token"][0]
    sent = fake.orders[order_id]["purchase_units"][0]
    assert sent["custom_id"] == sent["invoice_id"] == str(purchase.reference)
    assert sent["amount"] == {"currency_code": "USD", "value": "7.99"}
    assert sent["soft_descriptor"] == django_settings.BILLING_DESCRIPTOR  # discretion on the bank statement
    # Not the order id: that is not what refunds and disputes name.
    assert purchase.provider_reference == "" and not has_show_ticket(viewer, show)

    fake.approve_order(order_id)
    back = client.get(f"/billing/paypal/{purchase.reference}/return/?token={order_id}&PayerID=QYR5Z8XDVJNXQ")
    assert back.status_code == 302
    assert client.get(back["Location"])["Location"] == "/rooms/performer/"
    purchase.refresh_from_db()
    capture = fake.capture_of(order_id)
    assert purchase.status == Purchase.Status.PAID and purchase.provider_reference == capture["id"]
    assert has_show_ticket(viewer, show)
    assert ledger.performer_balances(performer)[PENDING] == 799 * 60 // 100

    # PayPal's own webhook for the same capture, and the buyer reloading the return page: no second grant.
    assert outcomes(post(client, capture_completed(capture))) == ["ignored: already settled"]
    assert client.get(f"/billing/paypal/{purchase.reference}/return/?token={order_id}").status_code == 302
    assert Transfer.objects.filter(kind="ticket").count() == 1

    client.force_login(staff)
    response = client.post("/admin/billing/purchase/", {"action": "refund_purchase", "_selected_action": [purchase.pk]})
    assert response.status_code == 302
    assert fake.refunds == [("capture", capture["id"], {"amount": {"currency_code": "USD", "value": "7.99"}})]
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID  # the ledger follows PayPal's webhook
    assert outcomes(post(client, capture_reversal("REFUNDED", capture["id"], "7.99"))) == ["refund"]
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.REFUNDED and not has_show_ticket(viewer, show)
    assert ledger.performer_balances(performer)[PENDING] == 0


def test_token_pack_captured_by_the_order_approved_webhook_when_the_buyer_never_returns(
    client, fake, viewer, django_capture_on_commit_callbacks
):
    client.force_login(viewer)
    purchase, url = checkout(client, product="tokens", pack="small")
    order_id = parse_qs(urlsplit(url).query)["token"][0]
    fake.approve_order(order_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert outcomes(post(client, order_approved(fake.orders[order_id]))) == ["approved: collecting"]
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    assert purchase.provider_reference == fake.capture_of(order_id)["id"]
    assert ledger.wallet_balance(viewer) == purchase.tokens > 0


def test_capture_completed_webhook_fulfils_when_neither_return_nor_task_did(client, fake, viewer, performer):
    show = ShowFactory(performer=performer, kind="premium", price_cents=799, status="live")
    client.force_login(viewer)
    purchase, url = checkout(client, product="ticket", show=show.pk)
    order_id = parse_qs(urlsplit(url).query)["token"][0]
    fake.approve_order(order_id)
    # Captured by PayPal-side retry of our task, say; only the webhook tells us.
    fake._route("POST", f"/v2/checkout/orders/{order_id}/capture", {})
    capture = fake.capture_of(order_id)
    body = capture_completed(capture)
    assert outcomes(post(client, body)) == ["fulfilled"]
    assert outcomes(post(client, body)) == ["duplicate"]  # the same event redelivered
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID and purchase.provider_reference == capture["id"]
    assert has_show_ticket(viewer, show)


def test_capture_amount_differing_from_the_price_is_recorded_not_fulfilled(client, fake, viewer, performer):
    show = ShowFactory(performer=performer, kind="premium", price_cents=799, status="live")
    client.force_login(viewer)
    purchase, url = checkout(client, product="ticket", show=show.pk)
    order_id = parse_qs(urlsplit(url).query)["token"][0]
    fake.approve_order(order_id)
    fake._route("POST", f"/v2/checkout/orders/{order_id}/capture", {})
    capture = {**fake.capture_of(order_id), "amount": {"currency_code": "USD", "value": "0.01"}}
    assert outcomes(post(client, capture_completed(capture))) == ["ignored: amount differs from the price"]
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PENDING and not Transfer.objects.exists()


def test_dispute_and_reversal_charge_back_through_the_ledger(client, fake, viewer, performer):
    show = ShowFactory(performer=performer, kind="premium", price_cents=799, status="live")
    purchase, _ = buy_ticket(client, fake, viewer, show)
    assert outcomes(post(client, dispute_created(purchase.provider_reference))) == ["chargeback"]
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.CHARGED_BACK and not has_show_ticket(viewer, show)
    assert ledger.performer_balances(performer)[PENDING] == 0
    # PayPal reverses the capture after the dispute: nothing more to reverse.
    assert outcomes(post(client, capture_reversal("REVERSED", purchase.provider_reference, "7.99"))) == [
        "ignored: not paid"
    ]
    assert Transfer.objects.filter(kind="chargeback").count() == 1


def test_capture_reversed_alone_is_a_chargeback(client, fake, viewer, performer):
    show = ShowFactory(performer=performer, kind="premium", price_cents=799, status="live")
    purchase, _ = buy_ticket(client, fake, viewer, show)
    assert outcomes(post(client, capture_reversal("REVERSED", purchase.provider_reference, "7.99"))) == ["chargeback"]
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.CHARGED_BACK


def test_return_with_another_purchases_order_captures_nothing(client, fake, viewer, performer):
    show = ShowFactory(performer=performer, kind="premium", price_cents=799, status="live")
    client.force_login(viewer)
    _, cheap_url = checkout(client, product="tokens", pack="small")
    ticket, _ = checkout(client, product="ticket", show=show.pk)
    cheap_order = parse_qs(urlsplit(cheap_url).query)["token"][0]
    fake.approve_order(cheap_order)
    response = client.get(f"/billing/paypal/{ticket.reference}/return/?token={cheap_order}")
    assert response.status_code == 409
    assert fake.orders[cheap_order]["status"] == "APPROVED"  # not captured
    ticket.refresh_from_db()
    assert ticket.status == Purchase.Status.PENDING and not Transfer.objects.exists()
    assert client.get(f"/billing/paypal/{ticket.reference}/return/?token=../../v1/oops").status_code == 400


def test_stranger_cannot_complete_someone_elses_paypal_checkout(client, fake, viewer, outsider, performer):
    show = ShowFactory(performer=performer, kind="premium", price_cents=799, status="live")
    client.force_login(viewer)
    purchase, url = checkout(client, product="ticket", show=show.pk)
    order_id = parse_qs(urlsplit(url).query)["token"][0]
    fake.approve_order(order_id)
    client.force_login(outsider)
    before = (AuditEvent.objects.count(), Transfer.objects.count(), len(fake.requests))
    assert client.get(f"/billing/paypal/{purchase.reference}/return/?token={order_id}").status_code == 404
    assert (AuditEvent.objects.count(), Transfer.objects.count(), len(fake.requests)) == before
    client.logout()
    before = (AuditEvent.objects.count(), Transfer.objects.count(), len(fake.requests))
    assert client.get(f"/billing/paypal/{purchase.reference}/return/?token={order_id}").status_code == 302  # login
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PENDING and fake.orders[order_id]["status"] == "APPROVED"
    assert (AuditEvent.objects.count(), Transfer.objects.count(), len(fake.requests)) == before


def test_paypal_failures_are_clean_errors_that_change_nothing(client, fake, viewer, performer, staff):
    show = ShowFactory(performer=performer, kind="premium", price_cents=799, status="live")
    purchase, _ = buy_ticket(client, fake, viewer, show)
    broken = httpx.MockTransport(lambda request: httpx.Response(503, json={"name": "SERVICE_UNAVAILABLE"}))
    paypal_client.TRANSPORT = broken  # the fixture's monkeypatch restores the fake
    client.force_login(staff)
    audit_before = AuditEvent.objects.count()
    page = client.post(
        "/admin/billing/purchase/", {"action": "refund_purchase", "_selected_action": [purchase.pk]}, follow=True
    )
    assert b"PayPal could not refund this payment" in page.content
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID and AuditEvent.objects.count() == audit_before
    client.force_login(viewer)
    response = client.post(
        "/api/v1/checkout/",
        {"provider": "paypal", "product": "tokens", "pack": "small"},
        content_type="application/json",
    )
    assert response.status_code == 502 and response.json()["error"]["code"] == "provider_unavailable"
    assert ledger.wallet_balance(viewer) == 0


def test_page_checkout_uses_paypal_when_it_is_the_sites_provider(client, fake, viewer, performer, settings):
    settings.PAYMENT_PROVIDER = "paypal"
    client.force_login(viewer)
    response = client.post("/billing/checkout/", {"product": "subscription", "performer": "performer"})
    assert response.status_code == 302
    assert response["Location"].startswith("https://www.paypal.test/webapps/billing/subscriptions?ba_token=BA-I-")
    purchase = Purchase.objects.get()
    assert purchase.provider == "paypal" and purchase.status == Purchase.Status.PENDING


# --- webhook verification ---------------------------------------------------------


@pytest.fixture
def paid_capture(fake, viewer, performer):
    """A pending ticket whose order PayPal captured (the webhook is what we test)."""
    from tests.support.billing import pending_purchase

    show = ShowFactory(performer=performer, kind="premium", price_cents=799, status="live")
    purchase = pending_purchase(
        viewer, provider="paypal", product="ticket", show=show, performer=performer, tokens=0, pack="", amount_cents=799
    )
    capture = {
        "id": "29U2345678A123456",
        "status": "COMPLETED",
        "amount": {"currency_code": "USD", "value": "7.99"},
        "final_capture": True,
        "custom_id": str(purchase.reference),
        "invoice_id": str(purchase.reference),
        "supplementary_data": {"related_ids": {"order_id": "1AB234567A1234567"}},
        "links": [{"href": f"{pp.API_URL}/v2/checkout/orders/1AB234567A1234567", "rel": "up", "method": "GET"}],
    }
    return purchase, capture


def nothing_written(purchase):
    purchase.refresh_from_db()
    return (
        purchase.status == Purchase.Status.PENDING
        and not WebhookEvent.objects.exists()
        and not Transfer.objects.exists()
    )


def test_valid_event_fulfils_once_duplicate_and_replay_change_nothing(client, fake, paid_capture):
    purchase, capture = paid_capture
    body = capture_completed(capture)
    assert outcomes(post(client, body)) == ["fulfilled"]
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID and purchase.provider_reference == capture["id"]
    # Redelivered (PayPal retries with the same event id, new transmission).
    assert outcomes(post(client, body)) == ["duplicate"]
    # Replayed under a new event id: the purchase is settled already.
    assert outcomes(post(client, capture_completed(capture))) == ["ignored: already settled"]
    assert Transfer.objects.filter(kind="ticket").count() == 1
    assert fake.cert_fetches == 1  # the certificate is cached


def test_tampered_forged_stale_wrong_cert_host_and_expired_cert_are_400_and_write_nothing(
    client, fake, paid_capture, settings
):
    purchase, capture = paid_capture
    body = capture_completed(capture)
    headers = pp.sign_headers(body)
    tampered = body.replace(b'"value": "7.99"', b'"value": "0.01"')
    assert tampered != body
    assert post(client, tampered, headers=headers).status_code == 400
    # Forged: signed with a key that is not the certificate's.
    assert post(client, body, key=pp.OTHER_KEY).status_code == 400
    # Signed for another webhook (another PayPal app's listener).
    assert post(client, body, webhook_id="0XX00000XX000000X").status_code == 400
    stale = timezone.now() - datetime.timedelta(seconds=settings.WEBHOOK_TOLERANCE_SECONDS + 60)
    assert post(client, body, sent=stale).status_code == 400
    # The certificate must come from PayPal's host over https.
    assert post(client, body, cert_url="https://evil.example/v1/notifications/certs/CERT-1").status_code == 400
    assert post(client, body, cert_url=f"http://{pp.API_HOST}{pp.CERT_PATH}").status_code == 400
    assert post(client, body, cert_url=f"https://{pp.API_HOST}.evil.example{pp.CERT_PATH}").status_code == 400
    assert post(client, body, cert_url=pp.EXPIRED_CERT_URL).status_code == 400
    assert post(client, body, algo="SHA1withRSA").status_code == 400
    assert post(client, body, headers={}).status_code == 400
    unsigned = {k: v for k, v in headers.items() if k != "PAYPAL-TRANSMISSION-SIG"}
    assert post(client, body, headers=unsigned).status_code == 400
    assert post(client, b"not json", headers=pp.sign_headers(b"not json")).status_code == 400
    assert ("GET", "/v1/notifications/certs/CERT-1") not in fake.requests  # never fetched from elsewhere
    assert nothing_written(purchase)
    # And the genuine delivery is still accepted afterwards.
    assert outcomes(post(client, body, headers=headers)) == ["fulfilled"]


def test_certificate_not_issued_to_paypal_is_refused(client, fake, paid_capture):
    purchase, capture = paid_capture
    fake.certs[pp.CERT_PATH] = pp.make_certificate(pp.KEY, name="attacker.example.com")
    assert post(client, capture_completed(capture)).status_code == 400
    assert nothing_written(purchase)


def test_paypal_is_off_unless_deliberately_enabled(client, fake, paid_capture, settings):
    purchase, capture = paid_capture
    settings.PAYPAL_ENABLED = False
    assert not get_gateway("paypal", require_enabled=False).is_enabled()
    assert post(client, capture_completed(capture)).status_code == 404
    assert nothing_written(purchase)


def test_admin_warns_about_paypals_content_policy(client, fake, staff, settings):
    client.force_login(staff)
    page = client.get("/admin/billing/purchase/")
    assert page.status_code == 200 and b"acceptable use policy" in page.content.lower()
    settings.PAYPAL_ENABLED = False
    assert b"acceptable use policy" not in client.get("/admin/billing/purchase/").content.lower()


# --- subscriptions: Billing Plans + Subscriptions ---------------------------------


def subscribe(client, fake, viewer):
    client.force_login(viewer)
    purchase, url = checkout(client, product="subscription", performer="performer")
    subscription_id = parse_qs(urlsplit(url).query)["ba_token"][0].removeprefix("BA-")
    assert fake.subscriptions[subscription_id]["custom_id"] == str(purchase.reference)
    first_sale = fake.approve_subscription(subscription_id)
    back = client.get(
        f"/billing/paypal/{purchase.reference}/return/?subscription_id={subscription_id}&ba_token=BA-x&token=EC-x"
    )
    assert back.status_code == 302
    purchase.refresh_from_db()
    return purchase, subscription_id, first_sale


def test_subscription_lifecycle_through_paypal(client, fake, viewer, performer):
    purchase, subscription_id, first_sale = subscribe(client, fake, viewer)
    plan = fake.plans[fake.subscriptions[subscription_id]["plan_id"]]
    assert plan["billing_cycles"][0]["pricing_scheme"]["fixed_price"]["value"] == "9.99"
    assert purchase.status == Purchase.Status.PAID and purchase.provider_reference == first_sale
    subscription = Subscription.objects.get(provider="paypal")
    assert subscription.provider_subscription_id == subscription_id and has_active_subscription(viewer, performer)
    sub = fake.subscriptions[subscription_id]
    now = timezone.now()

    # Activation webhook and the first sale's webhook: already booked with the purchase.
    assert outcomes(post(client, subscription_event("ACTIVATED", sub, "ACTIVE"))) == ["ignored: not pending"]
    assert outcomes(post(client, sale_completed(subscription_id, first_sale, now))) == [
        "ignored: renewal already booked"
    ]
    assert Transfer.objects.filter(kind="subscription").count() == 1

    # Renewal 30 days on; an older sale delivered late books its money but never moves the period back.
    later = now + datetime.timedelta(days=30)
    assert outcomes(post(client, sale_completed(subscription_id, "S-RENEW-2", later))) == ["renewed"]
    subscription.refresh_from_db()
    end = subscription.current_period_end
    assert abs(end - (later + datetime.timedelta(days=30))) < datetime.timedelta(seconds=2)
    assert outcomes(post(client, sale_completed(subscription_id, "S-OLD", now - datetime.timedelta(days=1)))) == [
        "renewed"
    ]
    subscription.refresh_from_db()
    assert subscription.current_period_end == end
    assert Transfer.objects.filter(kind="subscription").count() == 3

    assert outcomes(post(client, subscription_event("SUSPENDED", sub, "SUSPENDED"))) == ["past_due"]
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.PAST_DUE
    assert outcomes(post(client, sale_completed(subscription_id, "S-RENEW-3", later))) == ["renewed"]
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE

    assert outcomes(post(client, subscription_event("CANCELLED", sub, "CANCELLED"))) == ["canceled"]
    subscription.refresh_from_db()
    period_end = subscription.current_period_end
    # Late events never revive it.
    far = later + datetime.timedelta(days=60)
    assert outcomes(post(client, sale_completed(subscription_id, "S-LATE", far))) == [
        "booked; subscription stays canceled"
    ]
    assert outcomes(post(client, subscription_event("SUSPENDED", sub, "SUSPENDED"))) == ["ignored: not active"]
    assert outcomes(post(client, subscription_event("EXPIRED", sub, "EXPIRED"))) == ["ignored: already canceled"]
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CANCELED and subscription.current_period_end == period_end

    # A renewal refunded: that renewal's purchase is reversed (not the first one) and access ends now.
    assert outcomes(post(client, sale_refunded("S-RENEW-2"))) == ["refund"]
    assert Purchase.objects.get(provider_reference="S-RENEW-2").status == Purchase.Status.REFUNDED
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID and not has_active_subscription(viewer, performer)


def test_subscription_activated_webhook_books_the_first_payment_when_the_buyer_never_returns(
    client, fake, viewer, performer, django_capture_on_commit_callbacks
):
    client.force_login(viewer)
    purchase, url = checkout(client, product="subscription", performer="performer")
    subscription_id = parse_qs(urlsplit(url).query)["ba_token"][0].removeprefix("BA-")
    first_sale = fake.approve_subscription(subscription_id)
    with django_capture_on_commit_callbacks(execute=True):
        body = subscription_event("ACTIVATED", fake.subscriptions[subscription_id], "ACTIVE")
        assert outcomes(post(client, body)) == ["approved: collecting"]
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID and purchase.provider_reference == first_sale
    assert Subscription.objects.get().provider_subscription_id == subscription_id


def test_subscription_return_before_the_first_payment_waits_for_it(client, fake, viewer, performer):
    client.force_login(viewer)
    purchase, url = checkout(client, product="subscription", performer="performer")
    subscription_id = parse_qs(urlsplit(url).query)["ba_token"][0].removeprefix("BA-")
    fake.subscriptions[subscription_id]["status"] = "ACTIVE"  # approved, first payment not yet taken
    response = client.get(f"/billing/paypal/{purchase.reference}/return/?subscription_id={subscription_id}")
    assert response.status_code == 302
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PENDING and not Subscription.objects.exists()
    fake.charge_subscription(subscription_id)
    client.get(f"/billing/paypal/{purchase.reference}/return/?subscription_id={subscription_id}")
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID and Subscription.objects.count() == 1


def test_subscription_dispute_on_the_first_sale_and_staff_refund_of_a_sale(client, fake, viewer, performer, staff):
    purchase, _, first_sale = subscribe(client, fake, viewer)
    client.force_login(staff)
    client.post("/admin/billing/purchase/", {"action": "refund_purchase", "_selected_action": [purchase.pk]})
    # Not a capture: PayPal's captures endpoint says 404, the sale endpoint refunds it.
    assert fake.refunds == [("sale", first_sale, {"amount": {"total": "9.99", "currency": "USD"}})]
    assert outcomes(post(client, dispute_created(first_sale))) == ["chargeback"]
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.CHARGED_BACK and not has_active_subscription(viewer, performer)


def test_viewer_cancel_tells_paypal(client, fake, viewer, performer, django_capture_on_commit_callbacks):
    _, subscription_id, _ = subscribe(client, fake, viewer)
    subscription = Subscription.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/api/v1/subscriptions/{subscription.pk}/cancel/").status_code == 200
    assert fake.canceled == [subscription_id] and has_active_subscription(viewer, performer)
    assert outcomes(
        post(client, subscription_event("CANCELLED", fake.subscriptions[subscription_id], "CANCELLED"))
    ) == ["ignored: already canceled"]


def test_first_sale_webhook_before_the_buyer_returns_is_booked_once(client, fake, viewer, performer):
    client.force_login(viewer)
    purchase, url = checkout(client, product="subscription", performer="performer")
    subscription_id = parse_qs(urlsplit(url).query)["ba_token"][0].removeprefix("BA-")
    first_sale = fake.approve_subscription(subscription_id)
    # Out of order: PayPal's sale notification beats the buyer's return.
    body = sale_completed(subscription_id, first_sale, timezone.now())
    assert outcomes(post(client, body)) == ["ignored: unknown subscription"]
    client.get(f"/billing/paypal/{purchase.reference}/return/?subscription_id={subscription_id}")
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID and purchase.provider_reference == first_sale
    assert outcomes(post(client, sale_completed(subscription_id, first_sale, timezone.now()))) == [
        "ignored: renewal already booked"
    ]
    assert Transfer.objects.filter(kind="subscription").count() == 1
    assert ledger.performer_balances(performer)[PENDING] == 999 * 60 // 100


def test_a_cached_certificate_is_refused_once_it_expires(client, fake, paid_capture):
    from marquee.billing.gateways.base import WebhookRejected
    from marquee.billing.gateways.paypal import verify

    _, capture = paid_capture
    assert outcomes(post(client, capture_completed(capture))) == ["fulfilled"]
    assert fake.cert_fetches == 1
    # A year and a bit later the same (cached) certificate has expired.
    later = timezone.now() + datetime.timedelta(days=400)
    body = capture_completed(capture)
    with pytest.raises(WebhookRejected, match="expired"):
        verify.verify(body=body, headers=pp.sign_headers(body, sent=later), now=later)
    assert fake.cert_fetches == 1


def test_capture_denied_declines_the_purchase(client, fake, paid_capture):
    purchase, capture = paid_capture
    body = pp.event("PAYMENT.CAPTURE.DENIED", "capture", {**capture, "status": "DECLINED"})
    assert outcomes(post(client, body)) == ["declined"]
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.DECLINED and not Transfer.objects.exists()

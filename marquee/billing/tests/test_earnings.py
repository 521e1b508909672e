from __future__ import annotations

import datetime

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.admin.sites import site
from django.test import RequestFactory, override_settings
from django.utils import timezone

from marquee.audit.models import AuditEvent
from marquee.billing import services
from marquee.billing.admin import PurchaseAdmin
from marquee.billing.models import Payout, Purchase
from marquee.billing.selectors import has_show_ticket
from marquee.ledger import selectors as ledger
from marquee.ledger.models import AccountKind, Transfer, Unit
from marquee.ledger.services import loss_account
from tests.factories import PerformerFactory, ShowFactory, UserFactory, reauthenticate
from tests.support.billing import fund, pending_purchase, tip

pytestmark = pytest.mark.django_db
PENDING, AVAILABLE, IN_FLIGHT = (
    AccountKind.PERFORMER_PENDING,
    AccountKind.PERFORMER_AVAILABLE,
    AccountKind.PAYOUTS_IN_FLIGHT,
)


def buy_ticket(user, show):
    purchase = pending_purchase(
        user, product="ticket", show=show, performer=show.performer, tokens=0, pack="", amount_cents=show.price_cents
    )
    services.sandbox_complete_checkout(purchase=purchase, pay=True)
    purchase.refresh_from_db()
    return purchase


def admin_action(staff, action, purchase):
    request = RequestFactory().post("/admin/")
    request.user = staff
    request._messages = type("M", (), {"add": lambda *a, **k: None})()
    model_admin = PurchaseAdmin(Purchase, site)
    getattr(model_admin, action)(request, Purchase.objects.filter(pk=purchase.pk))


def test_staff_refund_removes_access_and_reverses_earnings(viewer, performer, staff, ledger_clean):
    show = ShowFactory(performer=performer, kind="premium", price_cents=1000, status="live")
    purchase = buy_ticket(viewer, show)
    assert has_show_ticket(viewer, show)
    assert ledger.performer_balances(performer)[PENDING] == 600
    admin_action(staff, "refund_purchase", purchase)
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.REFUNDED
    assert not has_show_ticket(viewer, show)
    assert ledger.performer_balances(performer)[PENDING] == 0
    assert AuditEvent.objects.filter(action="billing.refund").exists()
    # Refunding twice, or a chargeback after the refund, changes nothing.
    admin_action(staff, "refund_purchase", purchase)
    admin_action(staff, "sandbox_chargeback", purchase)
    assert Transfer.objects.filter(kind__in=["refund", "chargeback"]).count() == 1


def test_chargeback_of_spent_tokens_claws_back_and_books_loss(viewer, performer, staff, ledger_clean):
    purchase = fund(viewer, 100)
    tip(viewer, performer, 80)
    admin_action(staff, "sandbox_chargeback", purchase)
    assert ledger.wallet_balance(viewer) == 0
    assert loss_account(Unit.TOKENS).balance == -80
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.CHARGED_BACK


def test_chargeback_after_payout_claws_from_available_then_loss(viewer, performer, ledger_clean):
    show = ShowFactory(performer=performer, kind="premium", price_cents=10000, status="live")
    purchase = buy_ticket(viewer, show)
    later = timezone.now() + datetime.timedelta(days=8)
    assert services.release_due_earnings(now=later) == 1
    assert services.release_due_earnings(now=later) == 0
    assert ledger.performer_balances(performer)[AVAILABLE] == 6000
    services.request_payout(user=performer.user, amount_cents=5000)
    services.sandbox_reverse(purchase=purchase, chargeback=True)
    balances = ledger.performer_balances(performer)
    assert balances[PENDING] == 0 and balances[AVAILABLE] == 0 and balances[IN_FLIGHT] == 5000
    assert loss_account(Unit.CENTS).balance == -5000


def test_earnings_are_held_then_released(viewer, performer, ledger_clean):
    fund(viewer, 100)
    tip(viewer, performer, 50)
    assert services.release_due_earnings() == 0
    assert services.release_due_earnings(now=timezone.now() + datetime.timedelta(days=7, minutes=1)) == 1
    balances = ledger.performer_balances(performer)
    assert balances[PENDING] == 0 and balances[AVAILABLE] == 50 * 10 * 60 // 100


@override_settings(PAYOUT_MINIMUM_CENTS=1000)
def test_payout_needs_two_factor_minimum_and_funds(client, viewer, performer, ledger_clean):
    show = ShowFactory(performer=performer, kind="premium", price_cents=5000, status="live")
    buy_ticket(viewer, show)
    services.release_due_earnings(now=timezone.now() + datetime.timedelta(days=8))
    client.force_login(performer.user)
    reauthenticate(client)  # payouts need a recent password (issue 12)
    assert (
        client.post("/api/v1/payouts/", {"amount_cents": 999}, content_type="application/json").json()["error"]["code"]
        == "below_minimum"
    )
    too_much = client.post("/api/v1/payouts/", {"amount_cents": 3001}, content_type="application/json")
    assert too_much.status_code == 409 and too_much.json()["error"]["code"] == "insufficient_earnings"
    assert not Payout.objects.exists()
    ok = client.post("/api/v1/payouts/", {"amount_cents": 3000}, content_type="application/json")
    assert ok.status_code == 201
    payout = Payout.objects.get()
    assert client.get("/api/v1/earnings/").json()["balances"][IN_FLIGHT] == 3000
    services.settle_payout(payout=payout, paid=False)
    assert ledger.performer_balances(performer)[AVAILABLE] == 3000
    with pytest.raises(services.BillingError):
        services.settle_payout(payout=payout, paid=True)
    # The same performer with two-factor switched off is refused, and nothing moves.
    Authenticator.objects.filter(user=performer.user).delete()
    payouts, transfers, audits = Payout.objects.count(), Transfer.objects.count(), AuditEvent.objects.count()
    refused = client.post("/api/v1/payouts/", {"amount_cents": 3000}, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "two_factor_required"
    assert (Payout.objects.count(), Transfer.objects.count(), AuditEvent.objects.count()) == (
        payouts,
        transfers,
        audits,
    )
    assert ledger.performer_balances(performer)[AVAILABLE] == 3000


def test_payout_refused_without_two_factor_and_for_non_performers(client, viewer, ledger_clean):
    no_2fa = PerformerFactory(user=UserFactory(username="no2fa"))
    client.force_login(no_2fa.user)
    reauthenticate(client)
    response = client.post("/api/v1/payouts/", {"amount_cents": 6000}, content_type="application/json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "two_factor_required"
    client.force_login(viewer)
    assert client.post("/api/v1/payouts/", {"amount_cents": 6000}, content_type="application/json").status_code == 403
    assert client.get("/api/v1/earnings/").status_code == 403
    assert not Payout.objects.exists() and not Transfer.objects.exists()


def test_earnings_read_api_for_dashboards(viewer, performer, ledger_clean):
    fund(viewer, 100)
    tip(viewer, performer, 10)
    show = ShowFactory(performer=performer, kind="premium", price_cents=500, status="live")
    purchase = buy_ticket(viewer, show)
    services.sandbox_reverse(purchase=purchase, chargeback=False)
    rows = list(ledger.earnings_transfers(performer).values_list("kind", "gross_cents", "performer_cents"))
    assert rows == [("tip", 100, 60), ("ticket", 500, 300), ("refund", 500, 300)]


@override_settings(STRIPE_SECRET_KEY="sk_test_x", STRIPE_WEBHOOK_SECRET="whsec_x")
def test_staff_refund_of_a_provider_purchase_asks_the_provider_and_waits_for_its_webhook(viewer, staff, monkeypatch):
    purchase = pending_purchase(viewer, provider="stripe")
    services.fulfil_purchase(purchase=purchase, payment_reference="pi_42")
    calls = []
    monkeypatch.setattr("stripe.Refund.create", lambda **kwargs: calls.append(kwargs))
    admin_action(staff, "refund_purchase", purchase)
    assert calls == [{"payment_intent": "pi_42", "amount": 999, "api_key": "sk_test_x"}]
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID  # the charge.refunded webhook applies it
    assert ledger.wallet_balance(viewer) == 100


def test_staff_admin_pages_are_refused_to_strangers(client, outsider, viewer):
    purchase = fund(viewer, 100)
    client.force_login(outsider)
    response = client.post("/admin/billing/purchase/", {"action": "refund_purchase", "_selected_action": [purchase.pk]})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID and ledger.wallet_balance(viewer) == 100

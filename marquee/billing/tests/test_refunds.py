"""Cancelling, refunding and reversing: first-class services with their own
tests.  Each regression test here failed on the code before its fix."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from marquee.audit.models import AuditEvent
from marquee.billing import money, services
from marquee.billing.models import Purchase
from marquee.billing.selectors import has_show_ticket
from marquee.billing.tests.conftest import fund, pending_purchase, tip
from marquee.ledger import selectors as ledger
from marquee.ledger.models import AccountKind, Transfer
from marquee.schedule import recurrence as schedule_recurrence
from marquee.schedule import services as schedule_services
from marquee.schedule.models import Notification
from tests.factories import ShowFactory, UserFactory

pytestmark = pytest.mark.django_db
PENDING, AVAILABLE = AccountKind.PERFORMER_PENDING, AccountKind.PERFORMER_AVAILABLE


def buy_ticket(user, show, provider="sandbox"):
    purchase = pending_purchase(
        user,
        provider=provider,
        product="ticket",
        show=show,
        performer=show.performer,
        tokens=0,
        pack="",
        amount_cents=show.price_cents,
        description=f"Ticket: {show.title}",
    )
    if provider == "sandbox":
        services.sandbox_complete_checkout(purchase=purchase, pay=True)
    else:
        services.fulfil_purchase(purchase=purchase, payment_reference=f"pi_ticket_{user.pk}")
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    return purchase


def scheduled_premium(performer, price=1000, title="Evening concert"):
    start = timezone.now() + datetime.timedelta(days=2)
    return ShowFactory(
        performer=performer, kind="premium", price_cents=price, status="scheduled", title=title, scheduled_start=start
    )


def test_cancelling_a_premium_show_refunds_every_ticket(
    viewer, performer, ledger_clean, django_capture_on_commit_callbacks
):
    show = scheduled_premium(performer)
    other_show = scheduled_premium(performer, price=500, title="Another night")
    second = UserFactory(username="second")
    tickets = [buy_ticket(viewer, show), buy_ticket(second, show)]
    kept = buy_ticket(viewer, other_show)
    assert ledger.performer_balances(performer)[PENDING] == 2 * 600 + 300
    with django_capture_on_commit_callbacks(execute=True):
        schedule_services.cancel_show(show=show, reason="ill")
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.status == Purchase.Status.REFUNDED and ticket.reversed_at is not None
        assert not has_show_ticket(ticket.user, show)
        assert Transfer.objects.filter(kind="refund", related__idempotency_key=f"purchase:{ticket.pk}").count() == 1
        assert Notification.objects.filter(user=ticket.user, show=show, kind="show_cancelled").count() == 1
    kept.refresh_from_db()
    assert kept.status == Purchase.Status.PAID and has_show_ticket(viewer, other_show)
    # The performer keeps only the other show's share; nothing is left to release or pay out.
    assert ledger.performer_balances(performer)[PENDING] == 300
    assert AuditEvent.objects.filter(action="billing.refund").count() == 2
    cancelled = AuditEvent.objects.get(action="show.cancelled")
    assert cancelled.details["tickets_refunded"] == 2
    assert sorted(m.to[0] for m in mail.outbox if "Refund" in m.subject) == sorted([viewer.email, second.email])
    later = timezone.now() + datetime.timedelta(days=30)
    services.release_due_earnings(now=later)
    assert ledger.performer_balances(performer)[AVAILABLE] == 300


def test_refund_show_tickets_is_idempotent_and_claws_back_released_earnings(viewer, performer, ledger_clean):
    show = scheduled_premium(performer)
    ticket = buy_ticket(viewer, show)
    services.release_due_earnings(now=timezone.now() + datetime.timedelta(days=8))
    assert ledger.performer_balances(performer)[AVAILABLE] == 600
    assert services.refund_show_tickets(show=show, reason="show_cancelled") == 1
    transfers, audits = Transfer.objects.count(), AuditEvent.objects.count()
    assert services.refund_show_tickets(show=show, reason="show_cancelled") == 0
    assert Transfer.objects.count() == transfers and AuditEvent.objects.count() == audits
    ticket.refresh_from_db()
    assert ticket.status == Purchase.Status.REFUNDED
    assert ledger.performer_balances(performer)[AVAILABLE] == 0


@override_settings(STRIPE_SECRET_KEY="sk_test_x", STRIPE_WEBHOOK_SECRET="whsec_x")
def test_cancelled_show_asks_the_provider_to_return_the_money_after_commit(
    viewer, performer, monkeypatch, django_capture_on_commit_callbacks
):
    show = scheduled_premium(performer)
    ticket = buy_ticket(viewer, show, provider="stripe")
    calls = []
    monkeypatch.setattr("stripe.Refund.create", lambda **kwargs: calls.append(kwargs))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        schedule_services.cancel_show(show=show)
    assert calls == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    assert calls == [{"payment_intent": f"pi_ticket_{viewer.pk}", "amount": 1000, "api_key": "sk_test_x"}]
    ticket.refresh_from_db()
    assert ticket.status == Purchase.Status.REFUNDED


def test_only_a_scheduled_show_can_be_cancelled_and_a_refused_cancel_refunds_nothing(viewer, performer):
    show = scheduled_premium(performer)
    ticket = buy_ticket(viewer, show)
    show.status = "live"
    show.save(update_fields=["status"])
    transfers = Transfer.objects.count()
    with pytest.raises(schedule_recurrence.ScheduleError):
        schedule_services.cancel_show(show=show)
    ticket.refresh_from_db()
    assert ticket.status == Purchase.Status.PAID and Transfer.objects.count() == transfers


# --- earnings hold ------------------------------------------------------------------


@override_settings(EARNINGS_HOLD_DAYS=3)
def test_earnings_are_held_exactly_earnings_hold_days(viewer, performer, ledger_clean):
    fund(viewer, 100)
    sent = tip(viewer, performer, 10)
    created = sent.transfer.created_at
    hold = datetime.timedelta(days=3)
    assert abs(sent.transfer.available_at - (created + hold)) < datetime.timedelta(seconds=5)
    assert services.release_due_earnings(now=created + hold - datetime.timedelta(minutes=1)) == 0
    assert ledger.performer_balances(performer)[AVAILABLE] == 0
    assert services.release_due_earnings(now=created + hold + datetime.timedelta(minutes=1)) == 1
    assert ledger.performer_balances(performer)[AVAILABLE] == 60


def test_refunded_and_charged_back_sales_are_never_released(viewer, performer, ledger_clean):
    refunded = buy_ticket(viewer, scheduled_premium(performer, title="A"))
    charged_back = buy_ticket(viewer, scheduled_premium(performer, title="B", price=2000))
    services.sandbox_reverse(purchase=refunded, chargeback=False)
    services.sandbox_reverse(purchase=charged_back, chargeback=True)
    assert services.release_due_earnings(now=timezone.now() + datetime.timedelta(days=30)) == 0
    balances = ledger.performer_balances(performer)
    assert balances[PENDING] == 0 and balances[AVAILABLE] == 0
    assert not Transfer.objects.filter(kind="release").exists()


def test_a_sale_refunded_after_release_is_clawed_back_from_available(viewer, performer, ledger_clean):
    ticket = buy_ticket(viewer, scheduled_premium(performer))
    assert services.release_due_earnings(now=timezone.now() + datetime.timedelta(days=8)) == 1
    assert ledger.performer_balances(performer)[AVAILABLE] == 600
    services.sandbox_reverse(purchase=ticket, chargeback=False)
    assert ledger.performer_balances(performer)[AVAILABLE] == 0
    with pytest.raises(services.BillingError) as refused:
        services.request_payout(user=performer.user, amount_cents=600)
    assert refused.value.code in ("insufficient_earnings", "below_minimum")


# --- reversals --------------------------------------------------------------------------


def test_a_second_reversal_of_the_same_transfer_returns_the_first(viewer, performer, ledger_clean):
    ticket = buy_ticket(viewer, scheduled_premium(performer))
    original = Transfer.objects.get(idempotency_key=f"purchase:{ticket.pk}")
    first, created = money.reverse(original=original, kind="refund", idempotency_key="r1")
    again, created_again = money.reverse(original=original, kind="chargeback", idempotency_key="c1")
    assert created and not created_again and again.pk == first.pk
    assert Transfer.objects.filter(related=original, kind__in=["refund", "chargeback"]).count() == 1
    assert ledger.performer_balances(performer)[PENDING] == 0


def test_strangers_cannot_cancel_a_show_and_nothing_is_refunded(client, viewer, performer, outsider, ledger_clean):
    from tests.factories import PerformerFactory

    show = scheduled_premium(performer)
    ticket = buy_ticket(viewer, show)
    rival = PerformerFactory(user=UserFactory(username="rival"))
    before = (Transfer.objects.count(), AuditEvent.objects.count(), Notification.objects.count())
    url = f"/api/v1/dashboard/schedule/shows/{show.pk}/cancel/"
    for stranger in (outsider, rival.user, viewer):
        client.force_login(stranger)
        assert client.post(url).status_code in (403, 404)
    show.refresh_from_db()
    ticket.refresh_from_db()
    assert show.status == "scheduled" and ticket.status == Purchase.Status.PAID
    assert (Transfer.objects.count(), AuditEvent.objects.count(), Notification.objects.count()) == before
    assert ledger.performer_balances(performer)[PENDING] == 600
    # The owner cancels through the same API: the ticket is refunded.
    client.force_login(performer.user)
    response = client.post(url)
    assert response.status_code == 200, response.content
    ticket.refresh_from_db()
    assert ticket.status == Purchase.Status.REFUNDED and ledger.performer_balances(performer)[PENDING] == 0


@override_settings(STRIPE_SECRET_KEY="sk_test_x", STRIPE_WEBHOOK_SECRET="whsec_x")
def test_a_provider_that_fails_to_refund_is_audited_for_staff(
    viewer, performer, monkeypatch, django_capture_on_commit_callbacks
):
    import stripe

    show = scheduled_premium(performer)
    ticket = buy_ticket(viewer, show, provider="stripe")

    def down(**kwargs):
        raise stripe.APIConnectionError("network down")

    monkeypatch.setattr("stripe.Refund.create", down)
    with django_capture_on_commit_callbacks(execute=True):
        schedule_services.cancel_show(show=show)
    ticket.refresh_from_db()
    assert ticket.status == Purchase.Status.REFUNDED  # the ledger owes the buyer either way
    failed = AuditEvent.objects.get(action="billing.provider_refund_failed")
    assert failed.target_id == str(ticket.pk)

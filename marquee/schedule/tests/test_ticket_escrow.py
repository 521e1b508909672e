"""Ticket shows as escrow (issue 13): a performer who never goes live, or a
show ended before its share of the announced length, refunds every ticket,
once, through the one refund path."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from marquee.audit.models import AuditEvent
from marquee.billing import services as billing
from marquee.billing.models import Purchase
from marquee.billing.selectors import has_show_ticket
from marquee.billing.tests.test_money_concurrency import run_together
from marquee.ledger import selectors as ledger
from marquee.ledger.models import AccountKind, Transfer
from marquee.schedule import escrow, tasks
from marquee.shows import services as shows
from marquee.shows.models import Show
from tests.factories import PerformerFactory, ShowFactory, UserFactory
from tests.support.billing import pending_purchase

PENDING = AccountKind.PERFORMER_PENDING
ESCROW = {"TICKET_SHOW_NO_SHOW_MINUTES": 15, "TICKET_SHOW_MIN_SHARE_PERCENT": 50}
# As billing's tests: the sandbox pays, a 60 % share; the age gate is tested elsewhere.
MONEY = {
    "SANDBOX_ENABLED": True,
    "PERFORMER_SHARE_PERCENT": 60,
    "TOKEN_VALUE_CENTS": 10,
    "EARNINGS_HOLD_DAYS": 7,
    "AGE_VERIFICATION_BEFORE_PURCHASE": False,
}


@pytest.fixture(autouse=True)
def _escrow_settings():
    with override_settings(**ESCROW, **MONEY):
        yield


def buy_ticket(user, show) -> Purchase:
    purchase = pending_purchase(
        user,
        product="ticket",
        show=show,
        performer=show.performer,
        tokens=0,
        pack="",
        amount_cents=show.price_cents,
        description=f"Ticket: {show.title}",
    )
    billing.sandbox_complete_checkout(purchase=purchase, pay=True)
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    return purchase


def premium(performer, *, start, price=1000, **fields) -> Show:
    return ShowFactory(performer=performer, kind="premium", price_cents=price, scheduled_start=start, **fields)


def tickets_of(show, n=2) -> list[Purchase]:
    return [buy_ticket(UserFactory(), show) for _ in range(n)]


def refund_transfers(purchase) -> int:
    return Transfer.objects.filter(kind="refund", related__idempotency_key=f"purchase:{purchase.pk}").count()


def assert_refunded_once(purchases, show):
    for purchase in purchases:
        purchase.refresh_from_db()
        assert purchase.status == Purchase.Status.REFUNDED
        assert not has_show_ticket(purchase.user, show)
        assert refund_transfers(purchase) == 1
        assert purchase.user.notifications.filter(show=show).count() == 1


def assert_untouched(purchases, show):
    for purchase in purchases:
        purchase.refresh_from_db()
        assert purchase.status == Purchase.Status.PAID and has_show_ticket(purchase.user, show)
        assert refund_transfers(purchase) == 0
        assert not purchase.user.notifications.filter(show=show).exists()


# --- the performer never goes live --------------------------------------------


@pytest.mark.django_db
def test_a_no_show_refunds_every_ticket_after_the_grace_and_not_before(performer, django_capture_on_commit_callbacks):
    start = timezone.now() + datetime.timedelta(hours=1)
    show = premium(performer, start=start, title="Rooftop set")
    other = premium(performer, start=start + datetime.timedelta(days=1), price=500)
    tickets = tickets_of(show)
    kept = tickets_of(other, 1)
    share = ledger.performer_balances(performer)[PENDING]
    assert share > 0

    # 14 minutes late: still within the grace; nothing moves.
    with django_capture_on_commit_callbacks(execute=True):
        assert escrow.settle_ticket_shows(now=start + datetime.timedelta(minutes=14, seconds=59)) == 0
    show.refresh_from_db()
    assert show.status == Show.Status.SCHEDULED
    assert_untouched(tickets, show)
    assert not mail.outbox

    with django_capture_on_commit_callbacks(execute=True):
        assert escrow.settle_ticket_shows(now=start + datetime.timedelta(minutes=15)) == 2
    show.refresh_from_db()
    assert show.status == Show.Status.CANCELLED
    assert_refunded_once(tickets, show)
    assert_untouched(kept, other)
    # The performer's share of the refunded tickets is clawed back; the other show's stays.
    assert ledger.performer_balances(performer)[PENDING] == share - sum(t.amount_cents * 60 // 100 for t in tickets)
    notice = tickets[0].user.notifications.get(show=show).text
    assert "did not start" in notice and "Rooftop set" in notice
    assert sorted(m.to[0] for m in mail.outbox if "Refund" in m.subject) == sorted(t.user.email for t in tickets)
    event = AuditEvent.objects.get(action="show.escrow_refunded")
    assert event.details["reason"] == "no_show" and event.details["tickets_refunded"] == 2
    assert AuditEvent.objects.filter(action="billing.refund").count() == 2
    call_command("ledger_check")


@pytest.mark.django_db
def test_a_retried_sweep_refunds_each_ticket_once(performer, django_capture_on_commit_callbacks):
    start = timezone.now() - datetime.timedelta(hours=2)
    show = premium(performer, start=timezone.now() + datetime.timedelta(hours=1))
    tickets = tickets_of(show)
    Show.objects.filter(pk=show.pk).update(scheduled_start=start)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.settle_ticket_shows() == 2
        assert tasks.settle_ticket_shows() == 0
        assert escrow.settle_ended_show(show_id=show.pk) == 0
    assert_refunded_once(tickets, show)
    assert AuditEvent.objects.filter(action="show.escrow_refunded").count() == 1
    assert len([m for m in mail.outbox if "Refund" in m.subject]) == 2


@pytest.mark.django_db
def test_a_show_that_went_live_late_but_within_the_grace_is_not_cancelled(performer):
    start = timezone.now() - datetime.timedelta(hours=1)
    show = premium(performer, start=timezone.now() + datetime.timedelta(hours=1))
    tickets = tickets_of(show)
    Show.objects.filter(pk=show.pk).update(
        scheduled_start=start, status="live", started_at=start + datetime.timedelta(minutes=10), media_session="1"
    )
    assert escrow.settle_ticket_shows() == 0
    show.refresh_from_db()
    assert show.status == Show.Status.LIVE
    assert_untouched(tickets, show)


# --- the show ends too early ----------------------------------------------------


def live_premium(performer, *, on_air: datetime.timedelta, expected_minutes=60):
    """A premium show with tickets, then live since ``on_air`` ago."""
    show = premium(performer, start=timezone.now() + datetime.timedelta(hours=1), expected_minutes=expected_minutes)
    tickets = tickets_of(show)
    now = timezone.now()
    Show.objects.filter(pk=show.pk).update(status="live", started_at=now - on_air, media_session="1", media_seen_at=now)
    show.refresh_from_db()
    return show, tickets


@pytest.mark.django_db
def test_a_show_ended_before_half_its_length_refunds_every_ticket(performer, django_capture_on_commit_callbacks):
    show, tickets = live_premium(performer, on_air=datetime.timedelta(minutes=29, seconds=50))
    with django_capture_on_commit_callbacks(execute=True):
        assert shows.end_publish(username=performer.user.username, session="1") is not None
    show.refresh_from_db()
    assert show.status == Show.Status.ENDED
    assert_refunded_once(tickets, show)
    assert "ended after 29 of its announced 60 minutes" in tickets[0].user.notifications.get(show=show).text
    event = AuditEvent.objects.get(action="show.escrow_refunded")
    assert event.details["reason"] == "too_short" and event.details["tickets_refunded"] == 2
    assert len([m for m in mail.outbox if "Refund" in m.subject]) == 2
    # A second end (the hook retried) or the sweep later refunds nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert shows.end_publish(username=performer.user.username, session="1") is None
        assert escrow.settle_ticket_shows() == 0
        assert tasks.settle_ended_show(show.pk) == 0
    assert_refunded_once(tickets, show)
    assert AuditEvent.objects.filter(action="show.escrow_refunded").count() == 1
    call_command("ledger_check")


@pytest.mark.django_db
def test_a_show_long_enough_refunds_nothing(performer, django_capture_on_commit_callbacks):
    # Exactly half of 45 minutes (the share is inclusive).
    show, tickets = live_premium(performer, on_air=datetime.timedelta(minutes=22, seconds=31), expected_minutes=45)
    share = ledger.performer_balances(performer)[PENDING]
    with django_capture_on_commit_callbacks(execute=True):
        shows.end_publish(username=performer.user.username, session="1")
        assert escrow.settle_ticket_shows() == 0
    show.refresh_from_db()
    assert show.status == Show.Status.ENDED
    assert_untouched(tickets, show)
    assert ledger.performer_balances(performer)[PENDING] == share
    assert not AuditEvent.objects.filter(action="show.escrow_refunded").exists()


@pytest.mark.django_db
def test_a_short_show_ended_by_the_media_watchdog_refunds(performer, django_capture_on_commit_callbacks):
    from marquee.shows.tasks import media_watchdog

    show, tickets = live_premium(performer, on_air=datetime.timedelta(minutes=5))
    Show.objects.filter(pk=show.pk).update(media_seen_at=timezone.now() - datetime.timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert media_watchdog() == 1
    assert_refunded_once(tickets, show)


@pytest.mark.django_db
def test_the_sweep_settles_a_short_show_whose_event_was_lost(performer):
    show, tickets = live_premium(performer, on_air=datetime.timedelta(minutes=5))
    # Ended with no on-commit callbacks run: the event (and its task) never happened.
    shows.end_publish(username=performer.user.username, session="1")
    assert_untouched(tickets, show)
    assert escrow.settle_ticket_shows() == 2
    assert_refunded_once(tickets, show)


@pytest.mark.django_db
@override_settings(TICKET_SHOW_MIN_SHARE_PERCENT=0)
def test_a_zero_share_setting_never_refunds_an_ended_show(performer):
    show, tickets = live_premium(performer, on_air=datetime.timedelta(seconds=1))
    shows.end_publish(username=performer.user.username, session="1")
    assert escrow.settle_ticket_shows() == 0
    assert_untouched(tickets, show)


# --- races (PostgreSQL) --------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent PostgreSQL connections")
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_refund_each_ticket_once():
    performer = PerformerFactory()
    late = premium(performer, start=timezone.now() + datetime.timedelta(hours=1))
    late_tickets = tickets_of(late, 3)
    Show.objects.filter(pk=late.pk).update(scheduled_start=timezone.now() - datetime.timedelta(hours=1))
    other = PerformerFactory()
    short, short_tickets = live_premium(other, on_air=datetime.timedelta(minutes=3))
    shows.end_publish(username=other.user.username, session="1")  # its event's task runs eagerly too

    results = run_together(4, lambda i: escrow.settle_ticket_shows())

    assert not [r for r in results if isinstance(r, Exception)], results
    assert_refunded_once(late_tickets, late)
    assert_refunded_once(short_tickets, short)
    # The short show was settled by its end event already; the sweeps refund only the no-show, once.
    assert sum(results) == 3
    assert AuditEvent.objects.filter(action="show.escrow_refunded").count() == 2
    call_command("ledger_check")

"""Races on PostgreSQL: real concurrent connections."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from marquee.ledger import selectors as ledger
from marquee.ledger.models import Hold, Transfer
from marquee.ledger.tests.conftest import postgres_only
from marquee.privates import services
from marquee.privates.models import PrivateShow
from marquee.privates.services import PrivateError
from marquee.privates.tests.conftest import at, fund
from marquee.shows.models import Show
from tests.factories import PerformerFactory, ShowFactory, UserFactory

pytestmark = [postgres_only, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
Status = PrivateShow.Status


def live_room():
    performer = PerformerFactory()
    ShowFactory(performer=performer, status=Show.Status.LIVE, started_at=at(-60), scheduled_start=None)
    services.update_room_settings(
        actor=performer.user, performer=performer, privates_enabled=True, rate_tokens=10, minimum_minutes=2
    )
    return performer


def run_together(n, work):
    barrier = threading.Barrier(n)

    def worker(i):
        barrier.wait()
        try:
            return work(i)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(worker, range(n)))


def test_two_requests_accepted_at_once_one_wins_the_others_void(private_settings):
    performer = live_room()
    viewers = [UserFactory() for _ in range(4)]
    sessions = []
    for i, viewer in enumerate(viewers):
        fund(viewer, 100)
        sessions.append(services.request_private(user=viewer, performer=performer, now=at(i)))

    def accept(i):
        try:
            return services.accept(actor=performer.user, session=sessions[i], now=at(10)).status
        except PrivateError as refused:
            return refused.code

    outcomes = run_together(4, accept)
    assert outcomes.count(Status.ACTIVE) == 1
    winner = PrivateShow.objects.get(status=Status.ACTIVE)
    assert set(PrivateShow.objects.exclude(pk=winner.pk).values_list("status", flat=True)) == {Status.CANCELLED}
    for viewer in viewers:
        expected = (90, 10) if viewer.pk == winner.payer_id else (100, 0)
        assert (ledger.wallet_balance(viewer), ledger.held_tokens(viewer)) == expected


def test_concurrent_ticks_charge_each_period_once(private_settings):
    performer = live_room()
    viewer = UserFactory()
    fund(viewer, 1000)
    session = services.request_private(user=viewer, performer=performer, now=at(0))
    services.accept(actor=performer.user, session=session, now=at(0))
    run_together(6, lambda i: services.bill_due_periods(now=at(250)))
    session.refresh_from_db()
    assert session.periods_charged == 5
    assert Transfer.objects.filter(hold=session.hold_id).count() == 5
    assert ledger.wallet_balance(viewer) == 950 and ledger.held_tokens(viewer) == 10


def test_end_racing_a_tick_and_a_tip_keeps_the_money_exact(private_settings):
    performer = live_room()
    viewer = UserFactory()
    fund(viewer, 100)
    session = services.request_private(user=viewer, performer=performer, now=at(0))
    services.accept(actor=performer.user, session=session, now=at(0))

    def work(i):
        if i % 3 == 0:
            return services.end_private(actor=viewer, session=session, now=at(130)).status
        if i % 3 == 1:
            return services.bill_due_periods(now=at(130))
        from marquee.ledger.services import InsufficientFunds
        from marquee.ledger.tests.test_ledger import spend_tokens

        try:
            spend_tokens(viewer, performer, 30, f"tip:{i}")
            return "tipped"
        except InsufficientFunds:
            return "refused"

    results = run_together(6, work)
    session.refresh_from_db()
    assert session.status == Status.ENDED and session.periods_charged == 3
    tipped = results.count("tipped")
    assert ledger.wallet_balance(viewer) == 100 - 30 - 30 * tipped
    assert ledger.held_tokens(viewer) == 0
    assert not Hold.objects.filter(status=Hold.Status.PENDING).exists()


def test_workers_share_the_due_set_and_charge_each_period_once(private_settings):
    """Four workers ticking at once over eight rooms (SKIP LOCKED on each room):
    every period begun is charged exactly once, and the rooms were shared."""
    sessions = []
    for _ in range(8):
        performer = live_room()
        viewer = UserFactory()
        fund(viewer, 1000)
        session = services.request_private(user=viewer, performer=performer, now=at(0))
        sessions.append(services.accept(actor=performer.user, session=session, now=at(0)))
    billed = run_together(4, lambda i: services.bill_due_periods(now=at(250)))
    assert sum(billed) == 8  # each session billed by exactly one worker
    for session in sessions:
        session.refresh_from_db()
        assert session.periods_charged == 5 and session.next_bill_at == at(300)
        keys = sorted(Transfer.objects.filter(hold=session.hold_id).values_list("idempotency_key", flat=True))
        assert keys == sorted(f"privates:{session.pk}:period:{n}" for n in range(1, 6))
        assert ledger.wallet_balance(session.payer) == 950 and ledger.held_tokens(session.payer) == 10


def test_a_room_locked_by_a_write_is_skipped_not_waited_for_nor_billed(private_settings):
    """A room whose row another transaction holds (an accept or end being
    answered): the tick bills the other rooms at once and leaves that one to
    the next tick, which charges it."""
    from django.db import transaction

    from marquee.privates.services.core import _lock_room

    sessions = []
    for _ in range(2):
        performer = live_room()
        viewer = UserFactory()
        fund(viewer, 1000)
        session = services.request_private(user=viewer, performer=performer, now=at(0))
        sessions.append(services.accept(actor=performer.user, session=session, now=at(0)))
    busy, free = sessions
    locked, release = threading.Event(), threading.Event()

    def hold_the_room():
        try:
            with transaction.atomic():
                _lock_room(busy.performer_id)
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_room)
    holder.start()
    try:
        assert locked.wait(10)
        with ThreadPoolExecutor(1) as pool:  # its own connection, as a worker process has
            billed = pool.submit(lambda: (services.bill_due_periods(now=at(130)), connections.close_all())[0])
            assert billed.result(timeout=10) == 1  # not waiting for the busy room's lock
    finally:
        release.set()
        holder.join()
    busy.refresh_from_db()
    free.refresh_from_db()
    assert (busy.periods_charged, free.periods_charged) == (1, 3)
    assert services.bill_due_periods(now=at(130)) == 1
    busy.refresh_from_db()
    assert busy.periods_charged == 3

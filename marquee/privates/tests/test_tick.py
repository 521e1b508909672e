"""The billing tick at scale: it visits only due sessions, its queries per
charged period stay bounded, several workers share the due set."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from marquee.ledger import selectors as ledger
from marquee.ledger.models import Transfer
from marquee.lib import domain_events
from marquee.privates import services
from marquee.privates.models import PrivateShow
from marquee.privates.services.core import _Audit, _charge_through
from marquee.privates.services.worker import _claim_due_room
from marquee.privates.tests.conftest import at, fund
from marquee.shows.models import Show
from tests.factories import PerformerFactory, ShowFactory, UserFactory

pytestmark = pytest.mark.django_db
Status, Reason = PrivateShow.Status, PrivateShow.EndReason

# Per charged period: room claim, session lock (live check joined), hold +
# wallet lock, payee accounts, idempotency check, transfer, hold update, the
# balances + entries (one PL/pgSQL call on PostgreSQL; 5 updates + 1 insert on
# SQLite; the wallet's held only when it changes), session update, audit claim
# + insert.  Measured: 11 on PostgreSQL.  Per pass: the last claim finding
# nothing, and on PostgreSQL synchronous_commit set off and reset.
PER_PERIOD = {"postgresql": 11, "sqlite": 18}
PER_PASS = {"postgresql": 3, "sqlite": 1}


def active_private(*, minimum_minutes=1, tokens=1000):
    performer = PerformerFactory()
    ShowFactory(performer=performer, status=Show.Status.LIVE, started_at=at(-60), scheduled_start=None)
    services.update_room_settings(
        actor=performer.user,
        performer=performer,
        privates_enabled=True,
        rate_tokens=10,
        minimum_minutes=minimum_minutes,
    )
    viewer = UserFactory()
    fund(viewer, tokens)
    session = services.request_private(user=viewer, performer=performer, now=at(0))
    services.accept(actor=performer.user, session=session, now=at(0))
    return session


def test_a_tick_with_nothing_due_is_one_query_however_many_sessions_run(private_settings):
    for _ in range(4):
        active_private()
    services.bill_due_periods(now=at(1))  # sessions just accepted already know their next period
    with CaptureQueriesContext(connection) as idle:
        assert services.bill_due_periods(now=at(59)) == 0
    assert len([q for q in idle.captured_queries if "SAVEPOINT" not in q["sql"]]) == 1


def test_queries_per_charged_period_stay_bounded(private_settings):
    sessions = [active_private() for _ in range(3)]
    services.bill_due_periods(now=at(1))
    with CaptureQueriesContext(connection) as tick:
        assert services.bill_due_periods(now=at(60)) == 3
    charged = Transfer.objects.filter(hold__in=[s.hold_id for s in sessions]).count()
    assert charged == 6  # period 1 at accept, period 2 now, for each
    queries = [q for q in tick.captured_queries if "SAVEPOINT" not in q["sql"]]
    limit = 3 * PER_PERIOD[connection.vendor] + PER_PASS[connection.vendor]
    assert len(queries) <= limit, "\n".join(q["sql"][:120] for q in queries)
    for session in sessions:
        session.refresh_from_db()
        assert session.periods_charged == 2 and session.next_bill_at == at(120)
        assert ledger.held_tokens(session.payer) == 10  # one period ahead, reserved with the post


def test_a_late_tick_catches_up_and_keeps_the_hold_one_period_ahead(private_settings):
    session = active_private(minimum_minutes=2)
    services.bill_due_periods(now=at(250))  # periods 2..5 began
    session.refresh_from_db()
    assert (session.periods_charged, session.next_bill_at) == (5, at(300))
    assert ledger.wallet_balance(session.payer) == 950 and ledger.held_tokens(session.payer) == 10


def test_a_period_the_wallet_cannot_cover_ends_the_show_with_nothing_half_written(private_settings):
    session = active_private(tokens=25)  # period 1 charged at accept; period 2 covered; not period 3
    services.bill_due_periods(now=at(60))
    session.refresh_from_db()
    assert (session.status, session.periods_charged) == (Status.ACTIVE, 2)
    services.bill_due_periods(now=at(120))
    session.refresh_from_db()
    assert (session.status, session.end_reason, session.periods_charged) == (Status.ENDED, Reason.NO_FUNDS, 2)
    assert ledger.wallet_balance(session.payer) == 5 and ledger.held_tokens(session.payer) == 0
    assert Transfer.objects.filter(hold=session.hold_id).count() == 2


def test_the_broadcast_ending_is_noticed_by_the_next_tick_not_the_next_period(
    private_settings, settings, django_capture_on_commit_callbacks
):
    settings.PRIVATE_STREAM_DROP_GRACE_SECONDS = 0
    session = active_private()
    services.bill_due_periods(now=at(1))
    show = Show.objects.get(performer=session.performer, status=Show.Status.LIVE)
    Show.objects.filter(pk=show.pk).update(status=Show.Status.ENDED, ended_at=at(20))
    with django_capture_on_commit_callbacks(execute=True):
        domain_events.send("show.ended", show_id=show.pk)  # as shows.services._end does, on commit
    services.bill_due_periods(now=at(25))  # before period 2 (at 60): ended at once
    session.refresh_from_db()
    assert (session.status, session.end_reason, session.periods_charged) == (Status.ENDED, Reason.STREAM_DROPPED, 1)


def test_the_due_set_is_read_through_the_next_bill_index(private_settings):
    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    active_private()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of rows: the planner would scan them
        with CaptureQueriesContext(connection) as claim:
            _claim_due_room(at(60))
        sql = claim.captured_queries[-1]["sql"]
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "privates_active_next_bill" in plan, plan


def test_the_tick_commits_without_waiting_for_the_flush_and_resets_it_after(private_settings, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    from marquee.privates.services import worker

    def show():
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]

    seen = []
    bill_room = worker._bill_room

    def watched(*args, **kwargs):
        seen.append(show())
        return bill_room(*args, **kwargs)

    monkeypatch.setattr(worker, "_bill_room", watched)
    sessions = [active_private() for _ in range(2)]
    assert services.bill_due_periods(now=at(60)) == 2
    assert seen == ["off", "off"]  # every room's transaction
    assert show() == "on"  # the connection's other work (a tip) flushes as before
    for session in sessions:
        session.refresh_from_db()
        assert session.periods_charged == 2


def test_a_period_replayed_from_a_stale_session_is_not_charged_twice(private_settings):
    """The (session, period) key, not the session row, is what makes a period
    charge once: a replay holding an old copy of the session (periods_charged
    behind the ledger) posts nothing new."""
    session = active_private()
    stale = PrivateShow.objects.select_related("performer", "payer", "hold").get(pk=session.pk)
    assert services.bill_due_periods(now=at(60)) == 1  # period 2
    with transaction.atomic():
        assert _charge_through(stale, 2, at(61), _Audit(), ahead=True)
    assert Transfer.objects.filter(hold=session.hold_id).count() == 2
    assert ledger.wallet_balance(session.payer) == 980 and ledger.held_tokens(session.payer) == 10

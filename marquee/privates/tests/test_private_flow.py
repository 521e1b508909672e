"""Private and exclusive shows: request, answer, billing per period, ending."""

from __future__ import annotations

import pytest

from marquee.audit.models import AuditEvent
from marquee.ledger import selectors as ledger
from marquee.ledger.models import AccountKind, Hold, Transfer
from marquee.privates import services
from marquee.privates.events import private_show_event
from marquee.privates.models import PrivateShow
from marquee.privates.services import PrivateError
from marquee.privates.tests.conftest import at, fund
from marquee.shows.models import Show
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
Status, Reason = PrivateShow.Status, PrivateShow.EndReason


def snapshot(*users):
    """Everything a refused call must leave as it was."""
    return (
        [(ledger.wallet_balance(u), ledger.held_tokens(u)) for u in users],
        list(PrivateShow.objects.order_by("pk").values_list("pk", "status", "periods_charged")),
        list(Hold.objects.order_by("pk").values_list("pk", "status", "amount", "posted")),
        Transfer.objects.count(),
        AuditEvent.objects.count(),
    )


def charged_transfers(session):
    return Transfer.objects.filter(hold=session.hold_id).count()


def test_request_holds_the_minimum_and_charges_nothing(room, viewer):
    fund(viewer, 100)
    session = services.request_private(user=viewer, performer=room, now=at(0))
    assert session.status == Status.REQUESTED
    assert (session.rate_tokens, session.minimum_periods) == (10, 3)
    assert ledger.held_tokens(viewer) == 30
    assert ledger.available_tokens(viewer) == 70
    assert ledger.wallet_balance(viewer) == 100
    assert AuditEvent.objects.filter(action="privates.private_requested").count() == 1


@pytest.mark.parametrize(
    ("setup", "code", "status"),
    [
        ("offline", "room_offline", 409),
        ("privates_off", "privates_off", 409),
        ("poor", "insufficient_tokens", 402),
        ("own_room", "own_room", 409),
        ("suspended", "not_available", 409),
        ("bad_kind", "bad_kind", 400),
        ("exclusive_off", "privates_off", 409),
    ],
)
def test_refused_requests_hold_nothing(room, viewer, setup, code, status):
    fund(viewer, 100 if setup != "poor" else 29)
    user, kind = viewer, PrivateShow.Kind.PRIVATE
    if setup == "offline":
        Show.objects.filter(performer=room).update(status=Show.Status.ENDED)
    elif setup == "privates_off":
        services.update_room_settings(actor=room.user, performer=room, privates_enabled=False)
    elif setup == "own_room":
        user = room.user
    elif setup == "suspended":
        room.is_suspended = True
        room.save()
    elif setup == "bad_kind":
        kind = "vip"
    elif setup == "exclusive_off":
        services.update_room_settings(actor=room.user, performer=room, exclusive_enabled=False)
        kind = PrivateShow.Kind.EXCLUSIVE
    before = snapshot(viewer)
    with pytest.raises(PrivateError) as refused:
        services.request_private(user=user, performer=room, kind=kind, now=at(0))
    assert (refused.value.code, refused.value.status) == (code, status)
    assert snapshot(viewer) == before
    assert not Hold.objects.exists()


def test_one_open_request_per_viewer_and_room(room, viewer):
    fund(viewer, 100)
    services.request_private(user=viewer, performer=room, now=at(0))
    with pytest.raises(PrivateError) as refused:
        services.request_private(user=viewer, performer=room, now=at(1))
    assert refused.value.code == "already_open"
    assert ledger.held_tokens(viewer) == 30


def test_accept_charges_the_first_period_and_voids_the_other_requests(room, viewer, outsider):
    fund(viewer, 100)
    fund(outsider, 100)
    mine = services.request_private(user=viewer, performer=room, now=at(0))
    theirs = services.request_private(user=outsider, performer=room, now=at(1))
    accepted = services.accept(actor=room.user, session=mine, now=at(5))
    assert accepted.status == Status.ACTIVE and accepted.periods_charged == 1
    theirs.refresh_from_db()
    assert (theirs.status, theirs.end_reason) == (Status.CANCELLED, Reason.OTHER_ACCEPTED)
    assert ledger.held_tokens(outsider) == 0 and ledger.wallet_balance(outsider) == 100
    assert ledger.wallet_balance(viewer) == 90
    # The hold covers the minimum (3 periods) and is kept one period ahead.
    assert ledger.held_tokens(viewer) == 20
    # The performer earns their share of each period (10 tokens × 10 cents × 60%).
    assert ledger.performer_balances(room)[AccountKind.PERFORMER_PENDING] == 60
    # The room is busy: new requests are refused.
    with pytest.raises(PrivateError) as refused:
        services.request_private(user=UserFactory(), performer=room, now=at(6))
    assert refused.value.code == "room_busy"


def test_double_accept_is_one_outcome(room, viewer):
    fund(viewer, 100)
    session = services.request_private(user=viewer, performer=room, now=at(0))
    services.accept(actor=room.user, session=session, now=at(5))
    again = services.accept(actor=room.user, session=session, now=at(6))
    assert again.status == Status.ACTIVE and again.started_at == at(5)
    assert charged_transfers(session) == 1 and ledger.wallet_balance(viewer) == 90


def test_strangers_cannot_answer_or_end_and_change_nothing(room, viewer, outsider):
    fund(viewer, 100)
    session = services.request_private(user=viewer, performer=room, now=at(0))
    before = snapshot(viewer, outsider)
    for call in (services.accept, services.decline):
        for who in (outsider, viewer):  # the payer may not accept their own request either
            with pytest.raises(PrivateError) as refused:
                call(actor=who, session=session, now=at(1))
            assert refused.value.status == 404
    with pytest.raises(PrivateError):
        services.end_private(actor=outsider, session=session, now=at(1))
    assert snapshot(viewer, outsider) == before
    services.accept(actor=room.user, session=session, now=at(2))
    before = snapshot(viewer, outsider)
    with pytest.raises(PrivateError) as refused:
        services.end_private(actor=outsider, session=session, now=at(70))
    assert refused.value.status == 404
    assert snapshot(viewer, outsider) == before


def test_decline_voids_the_hold(room, viewer):
    fund(viewer, 100)
    session = services.request_private(user=viewer, performer=room, now=at(0))
    declined = services.decline(actor=room.user, session=session, now=at(3))
    assert declined.status == Status.DECLINED
    assert ledger.held_tokens(viewer) == 0 and ledger.wallet_balance(viewer) == 100
    assert services.decline(actor=room.user, session=session, now=at(4)).status == Status.DECLINED
    with pytest.raises(PrivateError) as refused:
        services.accept(actor=room.user, session=session, now=at(5))
    assert refused.value.code == "not_pending"


def test_unanswered_requests_expire_and_late_accepts_are_refused(room, viewer, outsider):
    fund(viewer, 100)
    fund(outsider, 100)
    late = services.request_private(user=viewer, performer=room, now=at(0))
    swept = services.request_private(user=outsider, performer=room, now=at(10))
    with pytest.raises(PrivateError) as refused:
        services.accept(actor=room.user, session=late, now=at(120))
    assert refused.value.code == "request_expired"
    late.refresh_from_db()
    assert late.status == Status.EXPIRED and ledger.held_tokens(viewer) == 0
    with pytest.raises(PrivateError) as again:
        services.accept(actor=room.user, session=late, now=at(121))
    assert again.value.code == "not_pending"
    assert services.expire_requests(now=at(129)) == 0
    assert services.expire_requests(now=at(130)) == 1
    swept.refresh_from_db()
    assert swept.status == Status.EXPIRED and ledger.held_tokens(outsider) == 0
    assert not Transfer.objects.filter(kind="private").exists()


def test_ticks_charge_each_started_period_once(room, viewer):
    fund(viewer, 1000)
    session = services.request_private(user=viewer, performer=room, now=at(0))
    services.accept(actor=room.user, session=session, now=at(0))
    services.bill_due_periods(now=at(59))
    session.refresh_from_db()
    assert session.periods_charged == 1
    services.bill_due_periods(now=at(60))
    services.bill_due_periods(now=at(60))  # a retried tick
    session.refresh_from_db()
    assert session.periods_charged == 2 and charged_transfers(session) == 2
    services.bill_due_periods(now=at(250))  # a late tick catches up: periods 3, 4, 5 began
    session.refresh_from_db()
    assert session.periods_charged == 5
    assert ledger.wallet_balance(viewer) == 950
    assert ledger.held_tokens(viewer) == 10  # one period ahead


def test_viewer_warned_one_period_ahead_then_ended_when_tokens_run_out(
    room, viewer, django_capture_on_commit_callbacks
):
    fund(viewer, 45)  # the minimum (30) and one more period, not two
    events = []

    def receiver(sender, event, **kwargs):
        events.append(event)

    def step(call, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(**kwargs)

    private_show_event.connect(receiver)
    try:
        session = step(services.request_private, user=viewer, performer=room, now=at(0))
        step(services.accept, actor=room.user, session=session, now=at(0))
        step(services.bill_due_periods, now=at(60))
        step(services.bill_due_periods, now=at(120))  # period 3; period 4 is covered
        assert not [e for e in events if e["type"] == "private.low_funds"]
        step(services.bill_due_periods, now=at(180))  # period 4; period 5 is not covered: warn
        warnings = [e for e in events if e["type"] == "private.low_funds"]
        assert len(warnings) == 1 and warnings[0]["ends_after_period"] == 4
        assert warnings[0]["user_ids"] == sorted([viewer.pk, room.user_id])
        step(services.bill_due_periods, now=at(200))  # warned once, not every tick
        assert len([e for e in events if e["type"] == "private.low_funds"]) == 1
        step(services.bill_due_periods, now=at(240))  # period 5 begins: no tokens for it
    finally:
        private_show_event.disconnect(receiver)
    session.refresh_from_db()
    assert (session.status, session.end_reason, session.periods_charged) == (Status.ENDED, Reason.NO_FUNDS, 4)
    assert ledger.wallet_balance(viewer) == 5 and ledger.held_tokens(viewer) == 0
    assert [e["type"] for e in events][-1] == "private.ended"


def test_events_are_sent_only_after_commit(room, viewer):
    fund(viewer, 100)
    events = []

    def receiver(sender, event, **kwargs):
        events.append(event)

    private_show_event.connect(receiver)
    try:
        services.request_private(user=viewer, performer=room, now=at(0))
    finally:
        private_show_event.disconnect(receiver)
    assert events == []  # the test's transaction never commits


def test_viewer_ending_early_pays_the_minimum(room, viewer):
    fund(viewer, 100)
    session = services.request_private(user=viewer, performer=room, now=at(0))
    services.accept(actor=room.user, session=session, now=at(0))
    ended = services.end_private(actor=viewer, session=session, now=at(30))
    assert (ended.status, ended.end_reason, ended.periods_charged) == (Status.ENDED, Reason.PAYER, 3)
    assert ended.ended_by == viewer
    assert ledger.wallet_balance(viewer) == 70 and ledger.held_tokens(viewer) == 0
    # Ending twice is one outcome.
    again = services.end_private(actor=viewer, session=session, now=at(300))
    assert again.periods_charged == 3 and ledger.wallet_balance(viewer) == 70
    assert services.end_private(actor=room.user, session=session, now=at(301)).end_reason == Reason.PAYER


def test_performer_ending_early_charges_only_what_started(room, viewer):
    fund(viewer, 100)
    session = services.request_private(user=viewer, performer=room, now=at(0))
    services.accept(actor=room.user, session=session, now=at(0))
    ended = services.end_private(actor=room.user, session=session, now=at(61))
    assert (ended.end_reason, ended.periods_charged) == (Reason.PERFORMER, 2)
    assert ledger.wallet_balance(viewer) == 80 and ledger.held_tokens(viewer) == 0


def test_payer_ending_after_the_minimum_pays_what_started(room, viewer):
    fund(viewer, 1000)
    session = services.request_private(user=viewer, performer=room, now=at(0))
    services.accept(actor=room.user, session=session, now=at(0))
    services.bill_due_periods(now=at(200))
    ended = services.end_private(actor=viewer, session=session, now=at(250))
    assert ended.periods_charged == 5
    assert ledger.wallet_balance(viewer) == 950 and ledger.held_tokens(viewer) == 0


def test_viewer_withdraws_a_request(room, viewer):
    fund(viewer, 100)
    session = services.request_private(user=viewer, performer=room, now=at(0))
    withdrawn = services.end_private(actor=viewer, session=session, now=at(1))
    assert (withdrawn.status, withdrawn.end_reason) == (Status.CANCELLED, Reason.WITHDRAWN)
    assert ledger.held_tokens(viewer) == 0


def test_stream_drop_past_the_grace_ends_it_charged_up_to_the_drop(room, viewer):
    fund(viewer, 1000)
    session = services.request_private(user=viewer, performer=room, now=at(0))
    services.accept(actor=room.user, session=session, now=at(0))
    services.bill_due_periods(now=at(100))  # 2 periods
    assert services.stream_dropped(performer=room, at=at(110)) == 1
    services.bill_due_periods(now=at(125))  # period 3 began during the drop: not charged
    session.refresh_from_db()
    assert session.status == Status.ACTIVE and session.periods_charged == 2
    services.bill_due_periods(now=at(140))  # down for 30 s: the grace is over
    session.refresh_from_db()
    assert (session.status, session.end_reason, session.periods_charged) == (Status.ENDED, Reason.STREAM_DROPPED, 2)
    assert session.ended_at == at(110)
    assert ledger.wallet_balance(viewer) == 980 and ledger.held_tokens(viewer) == 0


def test_stream_back_within_the_grace_goes_on(room, viewer):
    fund(viewer, 1000)
    session = services.request_private(user=viewer, performer=room, now=at(0))
    services.accept(actor=room.user, session=session, now=at(0))
    services.stream_dropped(performer=room, at=at(50))
    assert services.stream_resumed(performer=room, now=at(70)) == 1
    services.bill_due_periods(now=at(100))
    session.refresh_from_db()
    assert session.status == Status.ACTIVE and session.periods_charged == 2


def test_a_broadcast_that_ended_without_a_drop_hook_ends_the_show(room, viewer):
    fund(viewer, 1000)
    session = services.request_private(user=viewer, performer=room, now=at(0))
    services.accept(actor=room.user, session=session, now=at(0))
    Show.objects.filter(performer=room).update(status=Show.Status.ENDED, ended_at=at(70))
    services.bill_due_periods(now=at(90))
    services.bill_due_periods(now=at(100))
    session.refresh_from_db()
    assert (session.status, session.end_reason, session.periods_charged) == (Status.ENDED, Reason.STREAM_DROPPED, 2)


def test_a_viewer_banned_mid_show_pays_only_what_started(room, viewer):
    fund(viewer, 100)
    session = services.request_private(user=viewer, performer=room, now=at(0))
    services.accept(actor=room.user, session=session, now=at(0))
    assert services.payer_blocked(performer=room, user=viewer, now=at(20)) == 1
    session.refresh_from_db()
    assert (session.status, session.end_reason, session.periods_charged) == (Status.ENDED, Reason.BLOCKED, 1)
    assert ledger.wallet_balance(viewer) == 90 and ledger.held_tokens(viewer) == 0


def test_sweeper_voids_holds_of_sessions_that_ended_without_voiding(room, viewer):
    fund(viewer, 100)
    session = services.request_private(user=viewer, performer=room, now=at(0))
    # A crash between closing the session and voiding its hold (not possible in
    # one transaction, but the sweeper must not trust that).
    PrivateShow.objects.filter(pk=session.pk).update(status=Status.CANCELLED, ended_at=at(1))
    assert services.sweep_holds(now=at(2)) == 1
    assert ledger.held_tokens(viewer) == 0
    assert services.sweep_holds(now=at(3)) == 0


def test_sweeper_expires_and_ends_what_is_due(room, viewer, outsider):
    fund(viewer, 100)
    fund(outsider, 100)
    waiting = services.request_private(user=viewer, performer=room, now=at(0))
    services.sweep_holds(now=at(500))
    waiting.refresh_from_db()
    assert waiting.status == Status.EXPIRED
    running = services.request_private(user=outsider, performer=room, now=at(600))
    services.accept(actor=room.user, session=running, now=at(600))
    services.stream_dropped(performer=room, at=at(610))
    services.sweep_holds(now=at(700))
    running.refresh_from_db()
    assert running.status == Status.ENDED and ledger.held_tokens(outsider) == 0
    assert not Hold.objects.filter(status=Hold.Status.PENDING).exists()


def test_exclusive_uses_its_rate(room, viewer):
    fund(viewer, 100)
    session = services.request_private(user=viewer, performer=room, kind="exclusive", now=at(0))
    assert session.rate_tokens == 20 and ledger.held_tokens(viewer) == 60


def test_room_settings_are_checked_against_platform_limits(room, outsider, private_settings):
    private_settings.PRIVATE_RATE_MAX_TOKENS = 500
    for bad in (
        {"rate_tokens": 0},
        {"rate_tokens": 501},
        {"minimum_minutes": 0},
        {"spy_rate_tokens": "5"},
        {"privates_enabled": "yes"},
        {"performer_id": 3},
    ):
        with pytest.raises(PrivateError) as refused:
            services.update_room_settings(actor=room.user, performer=room, **bad)
        assert refused.value.status == 400
    before = list(room.private_settings.__class__.objects.values())
    audits = AuditEvent.objects.count()
    with pytest.raises(PrivateError) as refused:
        services.update_room_settings(actor=outsider, performer=room, rate_tokens=5)
    assert refused.value.status == 404
    assert list(room.private_settings.__class__.objects.values()) == before
    assert AuditEvent.objects.count() == audits


def test_worker_tasks_bill_and_sweep(room, viewer, settings):
    from marquee.privates import tasks

    assert settings.CELERY_BEAT_SCHEDULE["privates-tick"]["task"] == "marquee.privates.tasks.tick"
    assert settings.CELERY_BEAT_SCHEDULE["privates-sweep-holds"]["task"] == "marquee.privates.tasks.sweep_holds"
    fund(viewer, 100)
    session = services.request_private(user=viewer, performer=room)  # now: the real clock
    services.accept(actor=room.user, session=session)
    tasks.tick.delay()
    session.refresh_from_db()
    assert session.periods_charged == 1  # the first period, not one more
    services.end_private(actor=room.user, session=session)
    assert tasks.sweep_holds.delay().get() == 0
    assert ledger.held_tokens(viewer) == 0

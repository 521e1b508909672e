from __future__ import annotations

import pytest

from marquee.ledger import selectors as ledger
from marquee.ledger.models import Hold
from marquee.privates import services
from marquee.privates.models import GroupShow, PrivateShow
from marquee.privates.services import PrivateError
from marquee.privates.tests.conftest import at, fund
from marquee.privates.tests.test_private_flow import snapshot
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
Status, Reason = PrivateShow.Status, PrivateShow.EndReason


@pytest.fixture
def running_private(room, viewer):
    fund(viewer, 1000)
    session = services.request_private(user=viewer, performer=room, now=at(0))
    return services.accept(actor=room.user, session=session, now=at(0))


def test_spy_pays_the_spy_rate_per_period(room, running_private, outsider):
    fund(outsider, 100)
    spy = services.request_private(user=outsider, performer=room, kind="spy", now=at(10))
    assert (spy.kind, spy.status, spy.parent_id, spy.periods_charged) == ("spy", Status.ACTIVE, running_private.pk, 1)
    assert ledger.wallet_balance(outsider) == 96 and ledger.held_tokens(outsider) == 4  # one period ahead
    services.bill_due_periods(now=at(75))
    spy.refresh_from_db()
    assert spy.periods_charged == 2
    left = services.end_private(actor=outsider, session=spy, now=at(80))
    assert (left.status, left.end_reason, left.periods_charged) == (Status.ENDED, Reason.PAYER, 2)
    assert ledger.wallet_balance(outsider) == 92 and ledger.held_tokens(outsider) == 0
    running_private.refresh_from_db()
    assert running_private.status == Status.ACTIVE


def test_spies_end_with_the_private_and_pay_only_what_started(room, running_private, viewer, outsider):
    fund(outsider, 100)
    spy = services.join_spy(user=outsider, performer=room, now=at(30))
    services.end_private(actor=viewer, session=running_private, now=at(100))
    spy.refresh_from_db()
    # Spy periods start at its own join: 30 s → 90 s → second period began at 90.
    assert (spy.status, spy.end_reason, spy.periods_charged) == (Status.ENDED, Reason.PARENT_ENDED, 2)
    assert ledger.held_tokens(outsider) == 0 and ledger.wallet_balance(outsider) == 92


@pytest.mark.parametrize("setup", ["exclusive", "no_private", "spies_off", "poor"])
def test_refused_spies_hold_nothing(room, viewer, outsider, setup):
    fund(viewer, 1000)
    fund(outsider, 3 if setup == "poor" else 100)
    if setup == "exclusive":
        session = services.request_private(user=viewer, performer=room, kind="exclusive", now=at(0))
        services.accept(actor=room.user, session=session, now=at(0))
    elif setup != "no_private":
        session = services.request_private(user=viewer, performer=room, now=at(0))
        services.accept(actor=room.user, session=session, now=at(0))
    if setup == "spies_off":
        services.update_room_settings(actor=room.user, performer=room, spies_enabled=False)
    before = snapshot(viewer, outsider)
    with pytest.raises(PrivateError) as refused:
        services.join_spy(user=outsider, performer=room, now=at(5))
    expected = {"exclusive": "exclusive", "no_private": "no_private", "spies_off": "spies_off"}
    assert refused.value.code == expected.get(setup, "insufficient_tokens")
    assert snapshot(viewer, outsider) == before
    assert ledger.held_tokens(outsider) == 0


def test_group_show_starts_when_the_goal_is_met_and_bills_everyone(room):
    group = services.announce_group_show(
        actor=room.user, performer=room, rate_tokens=5, goal_viewers=3, window_minutes=10, now=at(0)
    )
    viewers = [UserFactory() for _ in range(3)]
    for user in viewers:
        fund(user, 50)
    pledges = [services.join_group_show(user=user, group=group, now=at(10 + i)) for i, user in enumerate(viewers)]
    assert [p.status for p in pledges[:2]] == [Status.REQUESTED] * 2  # as they were when they joined
    assert pledges[2].status == Status.ACTIVE
    group.refresh_from_db()
    assert group.status == GroupShow.Status.RUNNING and group.started_at == at(12)
    for user in viewers:
        assert ledger.wallet_balance(user) == 45
    services.bill_due_periods(now=at(72))
    for user in viewers:
        assert ledger.wallet_balance(user) == 40
    # One viewer leaves (pays what started), then the performer ends it.
    services.end_private(actor=viewers[0], session=pledges[0], now=at(80))
    services.end_group_show(actor=room.user, group=group, now=at(90))
    group.refresh_from_db()
    assert group.status == GroupShow.Status.ENDED
    assert not Hold.objects.filter(status=Hold.Status.PENDING).exists()
    assert [ledger.wallet_balance(u) for u in viewers] == [40, 40, 40]


def test_group_goal_missed_voids_every_hold(room):
    group = services.announce_group_show(
        actor=room.user, performer=room, rate_tokens=5, goal_viewers=3, window_minutes=10, now=at(0)
    )
    viewers = [UserFactory() for _ in range(2)]
    for user in viewers:
        fund(user, 50)
        services.join_group_show(user=user, group=group, now=at(5))
    assert sum(ledger.held_tokens(u) for u in viewers) == 10
    assert services.fail_due_group_shows(now=at(599)) == 0
    assert services.fail_due_group_shows(now=at(600)) == 1
    group.refresh_from_db()
    assert group.status == GroupShow.Status.FAILED
    assert [ledger.held_tokens(u) for u in viewers] == [0, 0]
    assert [ledger.wallet_balance(u) for u in viewers] == [50, 50]
    assert set(group.pledges.values_list("status", "end_reason")) == {(Status.CANCELLED, Reason.GOAL_MISSED)}
    late = UserFactory()
    fund(late, 50)
    with pytest.raises(PrivateError) as refused:
        services.join_group_show(user=late, group=group, now=at(601))
    assert refused.value.code == "group_closed" and ledger.held_tokens(late) == 0


def test_group_show_refusals_change_nothing(room, outsider):
    for bad in ({"goal_viewers": 1}, {"rate_tokens": 0}, {"window_minutes": 0}):
        args = {"rate_tokens": 5, "goal_viewers": 3, "window_minutes": 10, **bad}
        with pytest.raises(PrivateError) as refused:
            services.announce_group_show(actor=room.user, performer=room, now=at(0), **args)
        assert refused.value.status == 400
    with pytest.raises(PrivateError) as refused:
        services.announce_group_show(
            actor=outsider, performer=room, rate_tokens=5, goal_viewers=3, window_minutes=10, now=at(0)
        )
    assert refused.value.status == 404
    assert not GroupShow.objects.exists()
    group = services.announce_group_show(
        actor=room.user, performer=room, rate_tokens=5, goal_viewers=3, window_minutes=10, now=at(0)
    )
    with pytest.raises(PrivateError) as refused:
        services.end_group_show(actor=outsider, group=group, now=at(1))
    assert refused.value.status == 404
    group.refresh_from_db()
    assert group.status == GroupShow.Status.ANNOUNCED


def test_a_running_group_show_left_by_everyone_ends(room):
    group = services.announce_group_show(
        actor=room.user, performer=room, rate_tokens=5, goal_viewers=2, window_minutes=10, now=at(0)
    )
    viewers = [UserFactory() for _ in range(2)]
    pledges = []
    for user in viewers:
        fund(user, 50)
        pledges.append(services.join_group_show(user=user, group=group, now=at(5)))
    for user, pledge in zip(viewers, pledges, strict=True):
        services.end_private(actor=user, session=pledge, now=at(30))
    services.fail_due_group_shows(now=at(31))
    group.refresh_from_db()
    assert group.status == GroupShow.Status.ENDED
    # The room takes privates again.
    fund(viewers[0], 50)
    assert services.request_private(user=viewers[0], performer=room, now=at(40)).status == Status.REQUESTED


def test_a_stream_restarted_within_the_grace_keeps_the_show(room, running_private):
    from marquee.shows.models import Show
    from tests.factories import ShowFactory

    Show.objects.filter(performer=room).update(status=Show.Status.ENDED, ended_at=at(50))
    services.stream_dropped(performer=room, at=at(50))
    ShowFactory(performer=room, status=Show.Status.LIVE, started_at=at(60), scheduled_start=None)
    services.stream_resumed(performer=room, now=at(65))
    services.bill_due_periods(now=at(70))
    services.bill_due_periods(now=at(100))
    running_private.refresh_from_db()
    assert running_private.status == Status.ACTIVE and running_private.periods_charged == 2

"""Issue 13 "Bad input and races", the answers not covered elsewhere: every
second answer to a closed session is the first one's outcome, changing nothing."""

from __future__ import annotations

import pytest

from marquee.privates import services
from marquee.privates.models import PrivateShow
from marquee.privates.services import PrivateError
from marquee.privates.tests.conftest import at, fund
from marquee.privates.tests.test_private_flow import snapshot
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
Status, Reason = PrivateShow.Status, PrivateShow.EndReason


@pytest.mark.parametrize("first_side", ["payer", "performer"])
def test_ending_twice_from_either_side_is_one_outcome(room, viewer, first_side):
    fund(viewer, 100)
    session = services.request_private(user=viewer, performer=room, now=at(0))
    services.accept(actor=room.user, session=session, now=at(0))
    first, second = (viewer, room.user) if first_side == "payer" else (room.user, viewer)
    ended = services.end_private(actor=first, session=session, now=at(30))
    before = snapshot(viewer)
    again = services.end_private(actor=second, session=session, now=at(200))
    assert snapshot(viewer) == before
    assert (again.status, again.end_reason, again.ended_at) == (Status.ENDED, ended.end_reason, at(30))
    expected = (Reason.PAYER, 3) if first_side == "payer" else (Reason.PERFORMER, 1)
    assert (ended.end_reason, ended.periods_charged) == expected


def test_answers_after_a_withdrawal_or_an_end_are_refused_and_change_nothing(room, viewer):
    fund(viewer, 100)
    withdrawn = services.request_private(user=viewer, performer=room, now=at(0))
    services.end_private(actor=viewer, session=withdrawn, now=at(1))
    ended = services.request_private(user=viewer, performer=room, now=at(2))
    services.accept(actor=room.user, session=ended, now=at(2))
    services.end_private(actor=room.user, session=ended, now=at(3))
    before = snapshot(viewer)
    for session in (withdrawn, ended):
        for call in (services.accept, services.decline):
            with pytest.raises(PrivateError) as refused:
                call(actor=room.user, session=session, now=at(4))
            assert (refused.value.code, refused.value.status) == ("not_pending", 409)
    assert snapshot(viewer) == before


def test_a_group_show_ended_twice_and_a_spy_ended_twice(room, viewer, outsider):
    fund(viewer, 100)
    fund(outsider, 100)
    session = services.request_private(user=viewer, performer=room, now=at(0))
    services.accept(actor=room.user, session=session, now=at(0))
    spy = services.join_spy(user=outsider, performer=room, now=at(10))
    services.end_private(actor=outsider, session=spy, now=at(20))
    before = snapshot(viewer, outsider)
    assert services.end_private(actor=outsider, session=spy, now=at(90)).ended_at == at(20)
    assert snapshot(viewer, outsider) == before
    services.end_private(actor=room.user, session=session, now=at(30))
    other = UserFactory(username="other")
    fund(other, 100)
    group = services.announce_group_show(
        actor=room.user, performer=room, rate_tokens=5, goal_viewers=2, window_minutes=10
    )
    services.join_group_show(user=other, group=group)
    services.join_group_show(user=viewer, group=group)
    services.end_group_show(actor=room.user, group=group)
    before = snapshot(viewer, outsider, other)
    assert services.end_group_show(actor=room.user, group=group).status == "ended"
    assert snapshot(viewer, outsider, other) == before

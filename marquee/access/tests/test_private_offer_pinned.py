"""``access.buy_private`` and ``access.private_offer`` called directly and
compared whole (mutation testing, issue 11): who may book a private in a room,
in which order the refusals come, and what the room's request button offers."""

from __future__ import annotations

import pytest

from marquee.access import selectors as access
from marquee.chat.bans import ban_user
from marquee.lib.geo import Location
from marquee.privates.services import update_room_settings
from marquee.privates.tests.conftest import private_settings, room  # noqa: F401 (fixtures)
from tests.support.compliance import approve_age

pytestmark = pytest.mark.django_db

NORWAY = Location("NO")  # no jurisdiction row, seeded or not, asks for age verification here
ALLOWED = (True, "ok", "", 200, {})


def answer(decision) -> tuple:
    return bool(decision), decision.code, decision.message, decision.status, decision.extra


def verified(user):
    approve_age(user)
    return access.Viewer(type(user).objects.get(pk=user.pk), NORWAY)


def test_an_age_verified_viewer_may_book_a_private(room, viewer):  # noqa: F811
    assert answer(access.buy_private(verified(viewer), room)) == ALLOWED


def test_booking_asks_the_room_first_then_the_purchase_then_the_ban(room, viewer):  # noqa: F811
    gate = answer(access.buy_private(access.Viewer(None, NORWAY), room))
    assert gate == (False, "age_gate", "Confirm that you are 18 or older first.", 401, {})
    unverified = answer(access.buy_private(access.Viewer(viewer, NORWAY), room))
    assert unverified[:2] == (False, "age_verification_required")
    me = verified(viewer)
    ban_user(actor=room.user, performer=room, target=viewer)
    assert answer(access.buy_private(me, room)) == (False, "banned", "You cannot book shows in this room.", 403, {})


def test_a_performer_who_may_not_earn_takes_no_bookings(room, viewer):  # noqa: F811
    room.verification_status = "pending"
    room.save()
    assert answer(access.buy_private(verified(viewer), room))[:4] == (
        False,
        "performer_not_verified",
        "This performer's identity verification is not approved yet.",
        403,
    )


def test_the_private_offer_names_the_rooms_prices(room, viewer):  # noqa: F811
    assert access.private_offer(verified(viewer), room) == {
        "privates_enabled": True,
        "rate_tokens": 10,
        "minimum_minutes": 3,
        "exclusive_rate_tokens": 20,
        "spy_rate_tokens": 4,
        "group_show": None,
    }
    assert access.private_offer(access.Viewer(room.user, NORWAY), room) is None  # not in one's own room


def test_the_private_offer_leaves_out_what_the_room_does_not_take(room, viewer):  # noqa: F811
    update_room_settings(actor=room.user, performer=room, exclusive_enabled=False, spies_enabled=False)
    offer = access.private_offer(verified(viewer), room)
    assert (offer["exclusive_rate_tokens"], offer["spy_rate_tokens"]) == (None, None)
    update_room_settings(actor=room.user, performer=room, privates_enabled=False)
    assert access.private_offer(verified(viewer), room)["privates_enabled"] is False  # groups still on
    update_room_settings(actor=room.user, performer=room, group_shows_enabled=False)
    assert access.private_offer(verified(viewer), room) is None

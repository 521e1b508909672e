"""``enter_room``, ``watch`` and ``room_offers`` of ``marquee.access`` called
directly and compared as whole answers (mutation testing, issue 11).  Needs
no seeded rows: the viewers stand in Norway, where no jurisdiction row (seeded
or not) asks for age verification."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from marquee.access import selectors as access
from marquee.lib.geo import Location
from marquee.performers.models import RegionBlock
from tests.factories import PerformerFactory, ShowFactory, UserFactory

pytestmark = pytest.mark.django_db

NORWAY = Location("NO")
ALLOWED = (True, "ok", "", 200, {})
AGE_GATE = (False, "age_gate", "Confirm that you are 18 or older first.", 401, {})
NOT_FOUND = (False, "not_found", "This room does not exist.", 404, {})
NOT_AVAILABLE = (False, "not_available", "This show is not available.", 403, {})


def answer(decision) -> tuple:
    return bool(decision), decision.code, decision.message, decision.status, decision.extra


def live(performer, kind="public", **fields):
    if kind == "premium":
        fields.setdefault("price_cents", 700)
    return ShowFactory(performer=performer, kind=kind, status="live", started_at=timezone.now(), **fields)


def adult():
    return access.Viewer(UserFactory(), NORWAY)


def test_entering_a_room(performer):
    assert answer(access.enter_room(adult(), performer)) == ALLOWED
    assert answer(access.enter_room(access.Viewer(None, NORWAY), performer)) == AGE_GATE
    assert answer(access.enter_room(access.Viewer(None, NORWAY, declared_adult=True), performer)) == ALLOWED
    RegionBlock.objects.create(performer=performer, country="NO")
    assert answer(access.enter_room(adult(), performer)) == NOT_FOUND
    assert answer(access.enter_room(access.Viewer(None, NORWAY), performer)) == NOT_FOUND  # hidden before the gate
    assert answer(access.enter_room(access.Viewer(UserFactory(), Location("SE")), performer)) == ALLOWED


def test_a_public_show_is_free_to_whoever_enters(performer):
    show = live(performer)
    assert access.free_to_watch(show)
    assert answer(access.watch(adult(), show)) == ALLOWED
    assert answer(access.watch(access.Viewer(None, NORWAY, True), show)) == ALLOWED
    assert answer(access.watch(access.Viewer(None, NORWAY), show)) == AGE_GATE


@pytest.mark.parametrize("kind", ["premium", "subscribers", "private"])
def test_a_paid_show_answers_402_with_its_offer(performer, kind):
    show = live(performer, kind)
    assert not access.free_to_watch(show)
    offer = access.paywall_offer(show)
    for viewer in (adult(), access.Viewer(None, NORWAY, True)):
        assert answer(access.watch(viewer, show)) == (False, "paywall", offer["message"], 402, {"paywall": offer})
    owner = access.Viewer(performer.user, NORWAY)
    assert answer(access.watch(owner, show)) == ALLOWED


def test_a_performer_who_may_not_earn_is_watched_by_nobody_but_themselves(performer):
    show = live(performer)
    performer.verification_status = "pending"
    performer.save()
    assert answer(access.watch(adult(), show)) == NOT_AVAILABLE
    assert answer(access.watch(access.Viewer(performer.user, NORWAY), show)) == ALLOWED
    # The gate is asked first: an ungated visitor is sent to it, not told the show is unavailable.
    assert answer(access.watch(access.Viewer(None, NORWAY), show)) == AGE_GATE


def test_room_offers_list_the_next_three_premium_shows_in_order(performer):
    now = timezone.now()
    starts = [now + datetime.timedelta(days=d) for d in (4, 1, 3, 2)]
    premium = [ShowFactory(performer=performer, kind="premium", price_cents=500, scheduled_start=s) for s in starts]
    ShowFactory(performer=performer, kind="public", scheduled_start=now)
    ShowFactory(performer=performer, kind="premium", price_cents=500, status="ended", scheduled_start=now)
    ShowFactory(kind="premium", price_cents=500, scheduled_start=now)  # another performer's
    offers = access.room_offers(adult(), performer)
    assert [t["show"].pk for t in offers["tickets"]] == [premium[1].pk, premium[3].pk, premium[2].pk]
    assert [t["owned"] for t in offers["tickets"]] == [False, False, False]
    assert (offers["sells"], offers["can_tip"], offers["club_member"]) == (True, True, False)


def test_room_offers_by_who_asks(performer):
    ShowFactory(performer=performer, kind="premium", price_cents=500)
    anonymous = access.room_offers(access.Viewer(None, NORWAY, True), performer)
    assert (anonymous["sells"], anonymous["can_tip"], anonymous["club_member"]) == (True, False, False)
    assert [t["owned"] for t in anonymous["tickets"]] == [False]
    own = access.room_offers(access.Viewer(performer.user, NORWAY), performer)
    assert (own["sells"], own["can_tip"]) == (False, False)
    unverified = PerformerFactory(verification_status="pending")
    theirs = access.room_offers(adult(), unverified)
    assert (theirs["sells"], theirs["can_tip"], theirs["tickets"]) == (False, False, [])


def test_the_content_shelf_shows_published_sets_and_what_each_viewer_has(performer):
    from marquee.billing.models import Subscription
    from marquee.content.models import ContentPurchase
    from tests.factories import MediaSetFactory

    free = MediaSetFactory(performer=performer, is_published=True, free_for_subscribers=True, price_tokens=5)
    paid = MediaSetFactory(performer=performer, is_published=True, free_for_subscribers=False, price_tokens=9)
    MediaSetFactory(performer=performer, is_published=False, price_tokens=5)
    MediaSetFactory(is_published=True, price_tokens=5)  # another performer's

    def shelf(viewer, **kwargs):
        return {entry["set"].pk: entry["owned"] for entry in access.content_shelf(viewer, performer, **kwargs)}

    buyer = adult()
    assert shelf(buyer) == {free.pk: False, paid.pk: False}
    assert [entry["set"].ready_items for entry in access.content_shelf(buyer, performer)] == [0, 0]
    ContentPurchase.objects.create(user=buyer.user, media_set=paid, price_tokens=9)
    assert shelf(buyer) == {free.pk: False, paid.pk: True}
    member = adult()
    Subscription.objects.create(
        user=member.user,
        performer=performer,
        price_cents=999,
        provider="sandbox",
        provider_subscription_id="sub_1",
        current_period_end=timezone.now() + datetime.timedelta(days=3),
    )
    assert shelf(member) == {free.pk: True, paid.pk: False}
    assert shelf(access.Viewer(performer.user, NORWAY)) == {free.pk: True, paid.pk: True}
    assert shelf(access.Viewer(None, NORWAY, True)) == {free.pk: False, paid.pk: False}
    assert shelf(access.Viewer(None, NORWAY)) == {}  # not past the gate: nothing at all
    assert len(shelf(buyer, limit=1)) == 1 and len(shelf(buyer, limit=None)) == 2
    RegionBlock.objects.create(performer=performer, country="NO")
    assert shelf(buyer) == {}
    assert shelf(access.Viewer(performer.user, NORWAY)) == {free.pk: True, paid.pk: True}  # own room, blocked or not

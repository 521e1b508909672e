"""``access.buy`` pinned whole (mutation testing, issue 11): which seller a
purchase is checked against (named performer, the show's, the set's), that a
room the buyer may not see answers as missing, and each refusal's code,
message and status, compared as whole decisions."""

from __future__ import annotations

import pytest

from marquee.access import selectors as access
from marquee.lib.geo import Location
from marquee.performers.models import RegionBlock
from tests.factories import MediaSetFactory, PerformerFactory, ShowFactory
from tests.support.compliance import approve_age

pytestmark = pytest.mark.django_db

GERMANY = Location("DE")
NOT_FOUND = ("not_found", "This room does not exist.", 404, {})
NOT_VERIFIED = ("performer_not_verified", "This performer's identity verification is not approved yet.", 403, {})


def answer(decision) -> tuple:
    return decision.code, decision.message, decision.status, decision.extra


@pytest.fixture
def buyer(viewer):
    approve_age(viewer)
    return access.Viewer(type(viewer).objects.get(pk=viewer.pk), GERMANY)


def test_an_unknown_product_is_a_400_whoever_asks(buyer):
    assert answer(access.buy(buyer, "gift-card")) == ("unknown_product", "Unknown product.", 400, {})
    assert answer(access.buy(access.Viewer(None, GERMANY), "gift-card"))[0] == "unknown_product"


def test_every_known_product_is_for_sale_from_a_verified_performer(buyer, performer):
    for product in ("tokens", "ticket", "private", "subscription", "content", "tip"):
        assert access.buy(buyer, product, performer=performer), product


def test_an_anonymous_buyer_is_asked_to_log_in(performer):
    decision = access.buy(access.Viewer(None, GERMANY), "tip", performer=performer)
    assert answer(decision) == ("not_authenticated", "Log in to buy.", 401, {})


@pytest.mark.parametrize("how", ["performer", "show", "media_set"])
def test_the_seller_is_found_from_the_performer_the_show_or_the_set(buyer, how):
    seller = PerformerFactory(verification_status="pending")
    things = {
        "performer": {"performer": seller},
        "show": {"show": ShowFactory(performer=seller, kind="premium", price_cents=500)},
        "media_set": {"media_set": MediaSetFactory(performer=seller)},
    }
    assert answer(access.buy(buyer, "content", **things[how])) == NOT_VERIFIED
    RegionBlock.objects.create(performer=seller, country="DE")
    assert answer(access.buy(buyer, "content", **things[how])) == NOT_FOUND


def test_the_named_performer_wins_over_the_show_and_the_show_over_the_set(buyer, performer):
    other = PerformerFactory(verification_status="pending")
    show = ShowFactory(performer=other)
    media_set = MediaSetFactory(performer=other)
    assert access.buy(buyer, "ticket", performer=performer, show=show, media_set=media_set)
    assert access.buy(buyer, "ticket", show=ShowFactory(performer=performer), media_set=media_set)
    assert answer(access.buy(buyer, "ticket", show=show, media_set=MediaSetFactory(performer=performer))) == (
        NOT_VERIFIED
    )


def test_a_region_blocked_room_sells_nothing_there_but_elsewhere(buyer, performer):
    RegionBlock.objects.create(performer=performer, country="DE")
    assert answer(access.buy(buyer, "tip", performer=performer)) == NOT_FOUND
    elsewhere = access.Viewer(buyer.user, Location("FR"))
    assert access.buy(elsewhere, "tip", performer=performer)
    assert access.buy(buyer, "tokens")  # the platform sells tokens wherever the room is hidden

"""Edges of the access rules not covered by the table."""

from __future__ import annotations

import pytest
from django.utils import timezone

from marquee.access import selectors as access
from marquee.lib.geo import UNKNOWN
from marquee.shows.models import Show
from tests.factories import ShowFactory
from tests.support.compliance import approve_age

pytestmark = pytest.mark.django_db


def test_buy_refuses_unknown_products_and_token_packs_need_only_the_buyer(viewer, performer):
    me = access.Viewer(viewer, UNKNOWN)
    assert access.buy(me, "gift-card").code == "unknown_product"
    assert access.buy(me, "tokens").code == "age_verification_required"
    approve_age(viewer)
    me = access.Viewer(type(viewer).objects.get(pk=viewer.pk), UNKNOWN)  # (the answer is cached per user object)
    assert access.buy(me, "tokens")
    performer.verification_status = "pending"
    performer.save()
    assert access.buy(me, "tokens")  # the platform sells tokens
    assert access.buy(me, "tip", performer=performer).code == "performer_not_verified"


def test_live_show_of_a_performer_who_lost_verification_is_shown_to_nobody_else(client, performer, viewer):
    ShowFactory(performer=performer, status=Show.Status.LIVE, started_at=timezone.now())
    performer.verification_status = "rejected"
    performer.save()
    client.force_login(viewer)
    body = client.get("/api/v1/rooms/performer/").json()
    assert body["playback_url"] is None and body["denied"]["code"] == "not_available"
    client.force_login(performer.user)
    assert client.get("/api/v1/rooms/performer/").json()["playback_url"]


def test_require_raises_the_decision_as_a_domain_error(viewer):
    with pytest.raises(access.AccessDenied) as refused:
        access.require(access.buy(access.Viewer(None, UNKNOWN), "tokens"))
    assert (refused.value.code, refused.value.status) == ("not_authenticated", 401)

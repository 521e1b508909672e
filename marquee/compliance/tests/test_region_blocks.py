"""A performer's region block hides them everywhere on main: home grid,
room, profile, performer API list/detail, follow (page + API), follows list."""

from __future__ import annotations

import pytest

from marquee.performers.models import Follow, RegionBlock
from tests.factories import FollowFactory
from tests.support.compliance import CALIFORNIA_V4, CALIFORNIA_V6, ENGLAND_V4, TEXAS_V4, approve_age

pytestmark = pytest.mark.django_db


@pytest.fixture
def blocked_in_california(geoip_db, performer):
    RegionBlock.objects.create(performer=performer, country="US", subdivision="CA")
    return performer


@pytest.fixture
def logged_in(client, viewer):
    approve_age(viewer)
    client.force_login(viewer)
    return client


@pytest.mark.parametrize("ip", [CALIFORNIA_V4, CALIFORNIA_V6])
def test_hidden_from_blocked_region(logged_in, blocked_in_california, ip):
    name = blocked_in_california.display_name.encode()
    home = logged_in.get("/", REMOTE_ADDR=ip)
    assert home.status_code == 200 and name not in home.content
    search = logged_in.get("/?q=perf", REMOTE_ADDR=ip)
    assert name not in search.content
    assert logged_in.get("/rooms/performer/", REMOTE_ADDR=ip).status_code == 404
    assert logged_in.get("/performers/performer/", REMOTE_ADDR=ip).status_code == 404
    listing = logged_in.get("/api/v1/performers/", REMOTE_ADDR=ip).json()
    assert [p["username"] for p in listing["results"]] == []
    assert logged_in.get("/api/v1/performers/performer/", REMOTE_ADDR=ip).status_code == 404


def test_visible_elsewhere(logged_in, blocked_in_california):
    home = logged_in.get("/", REMOTE_ADDR=TEXAS_V4)
    assert blocked_in_california.display_name.encode() in home.content
    assert logged_in.get("/rooms/performer/", REMOTE_ADDR=TEXAS_V4).status_code == 200
    assert logged_in.get("/api/v1/performers/performer/", REMOTE_ADDR=TEXAS_V4).status_code == 200


def test_country_wide_block(logged_in, geoip_db, performer):
    RegionBlock.objects.create(performer=performer, country="GB")
    assert logged_in.get("/rooms/performer/", REMOTE_ADDR=ENGLAND_V4).status_code == 404
    assert logged_in.get("/rooms/performer/", REMOTE_ADDR=CALIFORNIA_V4).status_code == 200


def test_follow_refused_and_nothing_changed(logged_in, viewer, blocked_in_california):
    assert logged_in.put("/api/v1/performers/performer/follow/", REMOTE_ADDR=CALIFORNIA_V4).status_code == 404
    assert logged_in.post("/rooms/performer/follow/", REMOTE_ADDR=CALIFORNIA_V4).status_code == 404
    assert not Follow.objects.filter(user=viewer).exists()


def test_followed_performer_disappears_from_follows(logged_in, viewer, blocked_in_california):
    FollowFactory(user=viewer, performer=blocked_in_california)
    assert logged_in.get("/api/v1/me/follows/", REMOTE_ADDR=CALIFORNIA_V4).json() == []
    assert len(logged_in.get("/api/v1/me/follows/", REMOTE_ADDR=TEXAS_V4).json()) == 1
    # Unfollowing from the blocked region is refused too, the follow stays.
    assert logged_in.delete("/api/v1/performers/performer/follow/", REMOTE_ADDR=CALIFORNIA_V4).status_code == 404
    assert Follow.objects.filter(user=viewer).count() == 1


def test_performer_still_sees_own_room(client, blocked_in_california):
    client.force_login(blocked_in_california.user)
    assert client.get("/rooms/performer/", REMOTE_ADDR=CALIFORNIA_V4).status_code == 200


def test_show_access_hidden(geoip_db, viewer, blocked_in_california):
    from marquee.access.selectors import Viewer, watch
    from marquee.lib.geo import locate
    from tests.factories import ShowFactory

    show = ShowFactory(performer=blocked_in_california)
    decision = watch(Viewer(viewer, locate(CALIFORNIA_V4)), show)
    assert not decision and decision.status == 404

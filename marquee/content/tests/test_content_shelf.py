"""Issue 15 item 7: the room and the profile link the performer's published
sets (title, price, a link to each set's page), from the one entitlement
module: drafts, taken-down sets, suspended or region-blocked performers show
nothing, and a viewer sees which sets are already theirs."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

from marquee.compliance.testing import approve_age
from marquee.content import services
from marquee.content.models import ContentPurchase, MediaItem, MediaSet
from marquee.performers.models import Performer, RegionBlock

pytestmark = pytest.mark.django_db


def _set(performer, title, *, price=0, published=True, free=True):
    media_set = MediaSet.objects.create(
        performer=performer, title=title, price_tokens=price, free_for_subscribers=free, is_published=published
    )
    for _ in range(2):
        MediaItem.objects.create(
            media_set=media_set, kind="image", file="x.jpg", mime="image/jpeg", size_bytes=1, status="ready"
        )
    return media_set


@pytest.fixture
def sets(performer):
    return {
        "beach": _set(performer, "Beach day", price=40, free=False),
        "club": _set(performer, "Backstage", free=True),
        "draft": _set(performer, "Work in progress", price=10, published=False),
        "gone": _set(performer, "Taken down", price=10),
    }


@pytest.fixture
def signed_in(client, viewer):
    approve_age(viewer)
    client.force_login(viewer)
    return client


def _pages(client, performer):
    return [
        client.get(reverse(name, args=[performer.username])).content.decode()
        for name in ("room", "profile", "room_content")
    ]


def test_room_profile_and_set_list_link_published_sets_with_prices(signed_in, performer, sets, staff):
    services.take_down_set(media_set=sets["gone"], actor=staff, reason="Policy")
    for page in _pages(signed_in, performer):
        assert f'href="{reverse("content_set", args=[sets["beach"].pk])}"' in page
        assert f'href="{reverse("content_set", args=[sets["club"].pk])}"' in page
        assert "40 tokens" in page and "2 files" in page
        for hidden in ("draft", "gone"):
            assert reverse("content_set", args=[sets[hidden].pk]) + '"' not in page
            assert sets[hidden].title not in page


def test_a_buyer_sees_the_set_is_theirs(signed_in, performer, viewer, sets):
    ContentPurchase.objects.create(user=viewer, media_set=sets["beach"], price_tokens=40)
    room = _pages(signed_in, performer)[0]
    beach = room[room.index("Beach day") :]
    assert beach.index("✓ Yours") < beach.index("</li>")


@pytest.mark.parametrize("why", ["region_block", "suspended"])
def test_a_hidden_performer_shows_no_sets_anywhere(signed_in, performer, sets, why):
    if why == "region_block":
        RegionBlock.objects.create(performer=performer, country="US", subdivision="CA")
    else:
        Performer.objects.filter(pk=performer.pk).update(is_suspended=True)
    with override_settings(GEO_LOCAL_LOCATION="US-CA"):
        for name in ("room", "profile", "room_content"):
            assert signed_in.get(reverse(name, args=[performer.username])).status_code == 404
        # The set's own page and files answer like a missing set.
        response = signed_in.get(reverse("content_set", args=[sets["beach"].pk]))
        assert response.status_code == 404 and "Beach day" not in response.content.decode()


def test_the_shelf_itself_is_empty_for_a_blocked_viewer(rf, performer, viewer, sets):
    """The entitlement answer every surface uses, asked directly."""
    from marquee.access import selectors as access
    from marquee.lib.geo import Location

    RegionBlock.objects.create(performer=performer, country="FR")
    approve_age(viewer)
    blocked = access.Viewer(viewer, Location("FR"), declared_adult=True)
    allowed = access.Viewer(viewer, Location("DE"), declared_adult=True)
    assert access.content_shelf(blocked, performer) == []
    assert {entry["set"].title for entry in access.content_shelf(allowed, performer)} == {
        "Beach day",
        "Backstage",
        "Taken down",
    }
    # The performer always sees their own published sets, even from a blocked region.
    owner = access.Viewer(performer.user, Location("FR"), declared_adult=True)
    assert len(access.content_shelf(owner, performer)) == 3

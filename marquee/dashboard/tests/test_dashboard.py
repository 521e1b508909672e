"""Dashboard index and room settings: performer-only, platform limits, region blocks."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

from marquee.audit.models import AuditEvent
from marquee.compliance.testing import approve_age
from marquee.performers.models import Performer, RegionBlock, RoomModerator, TipMenuItem
from tests.factories import PerformerFactory, UserFactory

ROOM_FORM = {
    "room_topic": "Board games night",
    "default_show_kind": "premium",
    "ticket_price": "7.50",
    "subscription_price": "9.99",
    "private_price": "29.99",
    "tip_goal_tokens": "500",
    "tip_goal_label": "New microphone",
    "timezone": "Europe/Berlin",
}


def test_dashboard_index_for_performer_and_link_in_nav(client, performer):
    client.force_login(performer.user)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'href="{reverse("dashboard")}"' in body
    assert "2FA on" in body  # the persona has TOTP


def test_dashboard_pages_refuse_non_performers(client, outsider):
    assert client.get(reverse("dashboard")).status_code == 302  # anonymous: to the login page
    client.force_login(outsider)
    for name in ("dashboard", "dashboard_room", "dashboard_schedule", "dashboard_content"):
        assert client.get(reverse(name)).status_code == 403, name


def test_room_settings_saved_with_audit(client, performer):
    client.force_login(performer.user)
    response = client.post(reverse("dashboard_room"), ROOM_FORM)
    assert response.status_code == 302
    performer.refresh_from_db()
    assert performer.default_show_kind == "premium"
    assert performer.default_ticket_price_cents == 750
    assert performer.tip_goal_tokens == 500 and performer.tip_goal_label == "New microphone"
    assert performer.timezone == "Europe/Berlin" and performer.room_topic == "Board games night"
    audit = AuditEvent.objects.get(action="room.settings_changed")
    assert audit.details["changed"]["default_ticket_price_cents"] == [499, 750]


@override_settings(PRICE_MAX_CENTS=10_000)
def test_price_above_platform_limit_is_refused_and_nothing_changes(client, performer):
    client.force_login(performer.user)
    response = client.post(reverse("dashboard_room"), {**ROOM_FORM, "ticket_price": "150.00"})
    assert response.status_code == 400
    assert "between $1.99 and $100.00" in response.content.decode()
    performer.refresh_from_db()
    assert performer.default_ticket_price_cents == 499 and performer.room_topic == ""


def test_stranger_cannot_change_room_settings(client, performer, outsider):
    client.force_login(outsider)
    before = Performer.objects.values().get(pk=performer.pk)
    assert client.post(reverse("dashboard_room"), ROOM_FORM).status_code == 403
    assert client.post(reverse("dashboard_tip_menu"), {"label": "Wave", "tokens": 5}).status_code == 403
    assert client.post(reverse("dashboard_moderators"), {"username": outsider.username}).status_code == 403
    assert client.post(reverse("dashboard_regions"), {"region": "FR"}).status_code == 403
    assert Performer.objects.values().get(pk=performer.pk) == before
    assert not TipMenuItem.objects.exists() and not RoomModerator.objects.exists() and not RegionBlock.objects.exists()


def test_other_performer_cannot_remove_my_items(client, performer):
    item = TipMenuItem.objects.create(performer=performer, label="Song", tokens=50)
    mod = RoomModerator.objects.create(performer=performer, user=UserFactory())
    block = RegionBlock.objects.create(performer=performer, country="FR")
    other = PerformerFactory()
    client.force_login(other.user)
    client.post(reverse("dashboard_tip_menu"), {"remove": item.pk})
    client.post(reverse("dashboard_moderators"), {"remove": mod.user_id})
    client.post(reverse("dashboard_regions"), {"remove": block.pk})
    assert TipMenuItem.objects.filter(pk=item.pk).exists()
    assert RoomModerator.objects.filter(pk=mod.pk).exists()
    assert RegionBlock.objects.filter(pk=block.pk).exists()


def test_tip_menu_moderators_and_regions(client, performer):
    fan = UserFactory(username="trusted_fan")
    client.force_login(performer.user)
    client.post(reverse("dashboard_tip_menu"), {"label": "Play a song", "tokens": 25})
    assert list(performer.tip_menu.values_list("label", "tokens")) == [("Play a song", 25)]
    client.post(reverse("dashboard_moderators"), {"username": "Trusted_Fan"})
    assert RoomModerator.objects.filter(performer=performer, user=fan).exists()
    response = client.post(reverse("dashboard_moderators"), {"username": "nobody_here"}, follow=True)
    assert "No user called" in response.content.decode()
    client.post(reverse("dashboard_regions"), {"region": "US-TX"})
    client.post(reverse("dashboard_regions"), {"region": "GB-SCT"})
    assert set(performer.region_blocks.values_list("country", "subdivision")) == {("US", "TX"), ("GB", "SCT")}
    client.post(reverse("dashboard_regions"), {"region": "XX-YY"})
    assert performer.region_blocks.count() == 2


@pytest.mark.parametrize(("where", "visible"), [("US-TX", False), ("US-CA", True), ("GB-SCT", False), ("GB-ENG", True)])
def test_region_block_hides_the_room(performer, viewer, client, where, visible):
    # Texas and the UK require age verification: a verified viewer gets past it.
    approve_age(viewer)
    client.force_login(viewer)
    RegionBlock.objects.create(performer=performer, country="US", subdivision="TX")
    RegionBlock.objects.create(performer=performer, country="GB", subdivision="SCT")
    with override_settings(GEO_LOCAL_LOCATION=where):
        status = client.get(reverse("room", args=[performer.username])).status_code
    assert status == (200 if visible else 404)


def test_room_lists_add_and_remove_with_messages(client, performer):
    amy = UserFactory(username="amy_fan")
    client.force_login(performer.user)
    steps = [
        ("dashboard_tip_menu", {"label": "Wave", "tokens": 5}, "Tip menu saved."),
        ("dashboard_moderators", {"username": "amy_fan"}, "amy_fan can now moderate your room."),
        ("dashboard_regions", {"region": "FR"}, "Region blocked: people there will not see your room."),
    ]
    for name, data, message in steps:
        assert message in client.post(reverse(name), data, follow=True).content.decode()
    assert performer.tip_menu.count() == performer.moderators.count() == performer.region_blocks.count() == 1
    removals = [
        ("dashboard_tip_menu", performer.tip_menu.get().pk, "Tip-menu item removed."),
        ("dashboard_moderators", amy.pk, "Moderator removed."),
        ("dashboard_regions", performer.region_blocks.get().pk, "Region unblocked."),
    ]
    for name, pk, message in removals:
        assert message in client.post(reverse(name), {"remove": pk}, follow=True).content.decode()
    assert performer.tip_menu.count() == performer.moderators.count() == performer.region_blocks.count() == 0


def test_page_and_api_list_moderators_and_regions_alike(client, performer):
    # Appointed and blocked out of order: both surfaces sort by name and region.
    for name in ("zed_fan", "amy_fan"):
        RoomModerator.objects.create(performer=performer, user=UserFactory(username=name))
    for country, subdivision in (("US", "TX"), ("FR", "")):
        RegionBlock.objects.create(performer=performer, country=country, subdivision=subdivision)
    client.force_login(performer.user)
    page = client.get(reverse("dashboard_room")).content.decode()
    assert page.index("amy_fan") < page.index("zed_fan")
    moderators = client.get("/api/v1/dashboard/room/moderators/").json()
    assert [m["username"] for m in moderators] == ["amy_fan", "zed_fan"]
    blocks = client.get("/api/v1/dashboard/room/regions/").json()
    assert [b["region"] for b in blocks] == ["FR", "US-TX"]
    for block in blocks:
        assert block["label"] and block["label"] in page

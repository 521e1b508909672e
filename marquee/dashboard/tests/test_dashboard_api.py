"""Dashboard API (room settings, schedule, content): performers only; a
stranger is refused and nothing changes."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from marquee.content import services as content_services
from marquee.content.models import MediaItem, MediaSet
from marquee.performers.models import Performer, RegionBlock, RoomModerator, TipMenuItem
from marquee.schedule import services as schedule_services
from marquee.schedule.models import ScheduleRule
from marquee.shows.models import Show
from tests.factories import PerformerFactory, UserFactory


@pytest.fixture(autouse=True)
def content_root(settings, tmp_path):
    settings.CONTENT_ROOT = tmp_path / "content"


@pytest.fixture
def api():
    return APIClient()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "#336699").save(out, "PNG")
    return out.getvalue()


def test_room_settings_api_roundtrip(api, performer):
    api.force_authenticate(performer.user)
    response = api.patch("/api/v1/dashboard/room/", {"room_topic": "Hello", "tip_goal_tokens": 300}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["room_topic"] == "Hello"
    performer.refresh_from_db()
    assert performer.tip_goal_tokens == 300
    response = api.patch("/api/v1/dashboard/room/", {"subscription_price_cents": 10}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "price_out_of_range"
    assert api.post("/api/v1/dashboard/room/tip-menu/", {"label": "Wave", "tokens": 5}).status_code == 201
    assert api.post("/api/v1/dashboard/room/regions/", {"region": "US-TX"}).status_code == 201
    assert api.post("/api/v1/dashboard/room/regions/", {"region": "US-TX"}).status_code == 409
    UserFactory(username="helper")
    assert api.post("/api/v1/dashboard/room/moderators/", {"username": "helper"}).status_code == 201
    overview = api.get("/api/v1/dashboard/").json()
    assert overview["two_factor_enabled"] is True and overview["room"]["tip_goal_tokens"] == 300


def test_schedule_api_create_overlap_and_public_view(api, performer):
    api.force_authenticate(performer.user)
    start = (timezone.now() + datetime.timedelta(days=2)).replace(microsecond=0)
    body = {"title": "Quiz", "kind": "public", "starts_at": start.isoformat(), "expected_minutes": 60}
    assert api.post("/api/v1/dashboard/schedule/shows/", body, format="json").status_code == 201
    clash = api.post(
        "/api/v1/dashboard/schedule/shows/",
        {**body, "title": "Clash", "starts_at": (start + datetime.timedelta(minutes=15)).isoformat()},
        format="json",
    )
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "overlap"
    rule = api.post(
        "/api/v1/dashboard/schedule/rules/",
        {
            "title": "Weekly",
            "kind": "public",
            "weekdays": ["MO"],
            "start_time": "08:00",
            "starts_on": (start + datetime.timedelta(days=3)).date().isoformat(),
            "publish": False,
        },
        format="json",
    )
    assert rule.status_code == 201 and rule.json()["is_published"] is False
    mine = api.get("/api/v1/dashboard/schedule/").json()
    assert [r["title"] for r in mine["rules"]] == ["Weekly"]
    public = APIClient().get(f"/api/v1/performers/{performer.username}/schedule/").json()
    assert [s["title"] for s in public] == ["Quiz"]  # the draft is not public


def test_content_api_upload_and_viewer_paywall(api, performer, viewer):
    api.force_authenticate(performer.user)
    created = api.post("/api/v1/dashboard/content/sets/", {"title": "Set", "price_tokens": 40}, format="json")
    assert created.status_code == 201
    set_id = created.json()["id"]
    upload = api.post(
        f"/api/v1/dashboard/content/sets/{set_id}/items/",
        {"file": SimpleUploadedFile("a.png", _png())},
        format="multipart",
    )
    assert upload.status_code == 201 and upload.json()["kind"] == "image"
    lie = api.post(
        f"/api/v1/dashboard/content/sets/{set_id}/items/",
        {"file": SimpleUploadedFile("a.png", b"just text, honestly" * 20)},
        format="multipart",
    )
    assert lie.status_code == 415 and lie.json()["error"]["code"] == "unsupported_type"
    MediaItem.objects.update(status="ready")
    assert (
        api.patch(f"/api/v1/dashboard/content/sets/{set_id}/", {"is_published": True}, format="json").status_code == 200
    )
    api.force_authenticate(viewer)
    paywalled = api.get(f"/api/v1/content/sets/{set_id}/")
    assert paywalled.status_code == 402 and "40 tokens" in paywalled.json()["error"]["message"]


def _snapshot(performer):
    return {
        "performer": Performer.objects.values().get(pk=performer.pk),
        "tips": list(TipMenuItem.objects.values()),
        "mods": list(RoomModerator.objects.values()),
        "regions": list(RegionBlock.objects.values()),
        "shows": list(Show.objects.values()),
        "rules": list(ScheduleRule.objects.values()),
        "sets": list(MediaSet.objects.values()),
        "items": list(MediaItem.objects.values()),
    }


@pytest.mark.parametrize("who", ["anonymous", "viewer", "other_performer"])
def test_strangers_are_refused_everywhere_and_nothing_changes(api, performer, who):
    item_set = content_services.create_set(performer=performer, title="Private", price_tokens=10)
    item = content_services.upload_item(media_set=item_set, upload=SimpleUploadedFile("p.png", _png()))
    rule = schedule_services.create_schedule_rule(
        performer=performer,
        title="Draft",
        kind="public",
        weekdays=["MO"],
        start_time=datetime.time(8),
        starts_on=timezone.now().date() + datetime.timedelta(days=1),
        publish=False,
        expected_minutes=60,
    )
    show = Show.objects.create(
        performer=performer, title="One", scheduled_start=timezone.now() + datetime.timedelta(days=3)
    )
    tip = TipMenuItem.objects.create(performer=performer, label="Song", tokens=20)
    block = RegionBlock.objects.create(performer=performer, country="FR")
    before = _snapshot(performer)
    if who == "viewer":
        api.force_authenticate(UserFactory())
    elif who == "other_performer":
        api.force_authenticate(PerformerFactory().user)
    expected = {"anonymous": {401, 403}, "viewer": {403}, "other_performer": {404}}[who]
    calls = [
        ("get", f"/api/v1/dashboard/schedule/rules/{rule.pk}/", None),
        ("post", f"/api/v1/dashboard/schedule/rules/{rule.pk}/", None),
        ("delete", f"/api/v1/dashboard/schedule/rules/{rule.pk}/", None),
        ("post", f"/api/v1/dashboard/schedule/shows/{show.pk}/cancel/", None),
        ("get", f"/api/v1/dashboard/content/sets/{item_set.pk}/", None),
        ("patch", f"/api/v1/dashboard/content/sets/{item_set.pk}/", {"title": "Mine now"}),
        ("delete", f"/api/v1/dashboard/content/items/{item.pk}/", None),
        ("delete", f"/api/v1/dashboard/room/tip-menu/{tip.pk}/", None),
        ("delete", f"/api/v1/dashboard/room/regions/{block.pk}/", None),
    ]
    for method, url, data in calls:
        response = getattr(api, method)(url, data, format="json")
        assert response.status_code in expected, (method, url, response.status_code)
        assert "error" in response.json()
    if who != "other_performer":
        # Collection endpoints: refused outright (another performer just sees their own, empty, lists).
        for url in ("/api/v1/dashboard/", "/api/v1/dashboard/room/", "/api/v1/dashboard/schedule/"):
            assert api.get(url).status_code in expected
        assert api.patch("/api/v1/dashboard/room/", {"room_topic": "pwned"}, format="json").status_code in expected
    else:
        assert api.get("/api/v1/dashboard/schedule/").json()["rules"] == []
    # The unpublished set is invisible to everyone but its owner.
    assert api.get(f"/api/v1/content/sets/{item_set.pk}/").status_code in {401, 403, 404}
    assert _snapshot(performer) == before

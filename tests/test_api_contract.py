"""Regressions found by schemathesis: inputs that answered 500 (or were
silently accepted) now answer a documented 4xx, and change nothing."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from marquee.performers.models import RoomModerator
from marquee.shows.models import Show
from tests.factories import MediaSetFactory, ShowFactory

HUGE = "9" * 30  # far past a 64-bit integer


@pytest.fixture
def api(performer):
    client = APIClient()
    client.force_authenticate(performer.user)
    return client


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/api/v1/dashboard/room/moderators/{}/"),
        ("delete", "/api/v1/dashboard/room/tip-menu/{}/"),
        ("delete", "/api/v1/dashboard/room/regions/{}/"),
        ("get", "/api/v1/dashboard/content/sets/{}/"),
        ("get", "/api/v1/content/sets/{}/"),
        ("post", "/api/v1/dashboard/schedule/shows/{}/cancel/"),
        ("get", "/api/v1/dashboard/schedule/rules/{}/"),
        ("post", "/api/v1/subscriptions/{}/cancel/"),
    ],
)
def test_an_id_past_64_bits_is_not_found_not_a_500(api, performer, viewer, method, path):
    RoomModerator.objects.create(performer=performer, user=viewer)
    response = getattr(api, method)(path.format(HUGE))
    assert response.status_code == 404
    assert RoomModerator.objects.filter(performer=performer, user=viewer).exists()


@pytest.mark.parametrize("body", ["[]", '["room_topic", "x"]', '"room_topic"', "7", "null"])
def test_room_settings_patch_with_a_non_object_body_is_a_400(api, performer, body):
    before = performer.room_topic
    response = api.patch("/api/v1/dashboard/room/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    performer.refresh_from_db()
    assert performer.room_topic == before


def test_room_settings_patch_changes_only_the_fields_sent(api, performer):
    performer.room_topic = "Kept"
    performer.save(update_fields=["room_topic"])
    response = api.patch("/api/v1/dashboard/room/", {"tip_goal_tokens": 250}, format="json")
    assert response.status_code == 200, response.json()
    performer.refresh_from_db()
    assert (performer.room_topic, performer.tip_goal_tokens) == ("Kept", 250)


def test_content_set_patch_with_a_non_object_body_is_a_400(api, performer):
    media_set = MediaSetFactory(performer=performer, title="Beach day", price_tokens=20)
    response = api.patch(
        f"/api/v1/dashboard/content/sets/{media_set.pk}/", '["title"]', content_type="application/json"
    )
    assert response.status_code == 400
    media_set.refresh_from_db()
    assert media_set.title == "Beach day"
    renamed = api.patch(f"/api/v1/dashboard/content/sets/{media_set.pk}/", {"title": "Park day"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["title"] == "Park day"
    media_set.refresh_from_db()
    assert (media_set.title, media_set.price_tokens) == ("Park day", 20)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("offset=true", "invalid_offset"),
        ("offset=-1", "invalid_offset"),
        ("offset=1.5", "invalid_offset"),
        ("limit=0", "invalid_limit"),
        ("limit=abc", "invalid_limit"),
        ("limit=101", "invalid_limit"),
    ],
)
def test_performer_list_paging_parameters_are_strict(client, viewer, query, code):
    client.force_login(viewer)
    response = client.get(f"/api/v1/performers/?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_performer_list_is_a_page(client, viewer, performer):
    client.force_login(viewer)
    body = client.get("/api/v1/performers/?limit=1&offset=0").json()
    assert body["count"] == 1 and body["next"] is None and body["previous"] is None
    assert [p["username"] for p in body["results"]] == ["performer"]


def test_schedule_window_past_year_9999_is_a_400(api, performer):
    ShowFactory(performer=performer)
    response = api.get("/api/v1/dashboard/schedule/?from=9999-12-31&days=93")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert Show.objects.filter(performer=performer).count() == 1


def test_chat_history_before_past_64_bits_is_a_400(client, viewer, performer):
    client.force_login(viewer)
    session = client.session
    session["age_gate_passed"] = True
    session.save()
    response = client.get(f"/api/v1/rooms/performer/messages/?before={HUGE}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_schema_documents_the_shapes_the_api_answers(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    components = schema["components"]["schemas"]
    listing = paths["/api/v1/performers/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listing["$ref"].endswith("/PaginatedPerformerList")
    assert components["Rule"]["properties"]["start_time"]["pattern"] == "^([01][0-9]|2[0-3]):[0-5][0-9]$"
    purchase = components["Purchase"]["properties"]
    assert purchase["paid_at"].get("nullable") and purchase["performer"].get("nullable")
    moderator = paths["/api/v1/dashboard/room/moderators/{user_id}/"]["delete"]
    assert moderator["parameters"][0]["schema"] == {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}
    assert set(moderator["responses"]) >= {"204", "401", "403", "404"}
    error = moderator["responses"]["404"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/Error"}
    offset = next(p for p in paths["/api/v1/performers/"]["get"]["parameters"] if p["name"] == "offset")
    assert offset["schema"]["minimum"] == 0

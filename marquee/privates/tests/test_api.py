"""The private-show API (DESIGN's public interfaces): each answer, and each
refusal leaving everything as it was (no hold, no transfer, no audit row)."""

from __future__ import annotations

import pytest
from django.conf import settings

from marquee.ledger import selectors as ledger
from marquee.privates import services
from marquee.privates.models import GroupShow, PrivateShow, RoomPrivateSettings
from marquee.privates.tests.conftest import fund
from marquee.privates.tests.test_private_flow import snapshot
from marquee.shows.models import Show
from tests.support.compliance import approve_age

pytestmark = pytest.mark.django_db
Status = PrivateShow.Status


@pytest.fixture(autouse=True)
def _age_verified(viewer, outsider):
    """Buying needs an age verification on file (compliance.policy.can_purchase)."""
    approve_age(viewer)
    approve_age(outsider)


def request_private(client, user, kind="private", username="performer"):
    client.force_login(user)
    return client.post(f"/api/v1/rooms/{username}/private/", {"kind": kind}, content_type="application/json")


def post(client, user, url, data=None):
    client.force_login(user)
    return client.post(url, data or {}, content_type="application/json")


def error_code(response):
    return response.json()["error"]["code"]


def test_request_answers_201_and_the_wallet_shows_the_hold(client, room, viewer):
    fund(viewer, 100)
    response = request_private(client, viewer)
    assert response.status_code == 201, response.content
    body = response.json()
    session = PrivateShow.objects.get()
    # The room fixture: 10 tokens a minute, minimum 3 minutes.
    assert body == {"id": session.pk, "status": "requested", "hold_tokens": 10 * 3, "rate_tokens": 10}
    wallet = client.get("/api/v1/wallet/").json()
    assert (wallet["balance_tokens"], wallet["held_tokens"], wallet["available_tokens"]) == (100, 30, 70)


@pytest.mark.parametrize(
    ("setup", "code", "status"),
    [
        ("poor", "insufficient_tokens", 402),
        ("offline", "room_offline", 409),
        ("privates_off", "privates_off", 409),
        ("exclusive_off", "privates_off", 409),
        ("no_spy_target", "no_private", 409),
        ("already_open", "already_open", 409),
        ("bad_kind", "validation_error", 400),
        ("missing_room", "not_found", 404),
    ],
)
def test_refused_requests_change_nothing(client, room, viewer, setup, code, status):
    fund(viewer, 25 if setup == "poor" else 100)
    kind, username = "private", "performer"
    if setup == "offline":
        Show.objects.filter(performer=room).update(status=Show.Status.ENDED)
    elif setup == "privates_off":
        RoomPrivateSettings.objects.filter(performer=room).update(privates_enabled=False)
    elif setup == "exclusive_off":
        RoomPrivateSettings.objects.filter(performer=room).update(exclusive_enabled=False)
        kind = "exclusive"
    elif setup == "no_spy_target":
        kind = "spy"
    elif setup == "already_open":
        assert request_private(client, viewer).status_code == 201
    elif setup == "bad_kind":
        kind = "group"
    elif setup == "missing_room":
        username = "nobody"
    before = snapshot(viewer)
    response = request_private(client, viewer, kind=kind, username=username)
    assert response.status_code == status, response.content
    if setup != "bad_kind":
        assert error_code(response) == code
    assert snapshot(viewer) == before


def test_anonymous_unverified_and_banned_viewers_are_refused(client, room, viewer):
    from django.test import Client

    from marquee.chat.models import ChatBan
    from tests.factories import UserFactory

    fund(viewer, 100)
    unverified = UserFactory(username="unverified")
    fund(unverified, 100)
    ChatBan.objects.create(performer=room, user=viewer, kind=ChatBan.Kind.BAN, created_by=room.user)
    before = snapshot(viewer, unverified)
    refused = request_private(client, unverified)
    assert refused.status_code == 403 and error_code(refused) == "age_verification_required"
    anonymous = Client().post("/api/v1/rooms/performer/private/", {"kind": "private"}, content_type="application/json")
    assert anonymous.status_code in (401, 403)
    banned = request_private(client, viewer)
    assert banned.status_code == 403 and error_code(banned) == "banned"
    assert snapshot(viewer, unverified) == before


def test_only_the_performer_answers_and_strangers_change_nothing(client, room, viewer, outsider):
    fund(viewer, 100)
    session_id = request_private(client, viewer).json()["id"]
    for who in (outsider, viewer):  # neither a stranger nor the requester may accept or decline
        for answer in ("accept", "decline"):
            before = snapshot(viewer, outsider)
            response = post(client, who, f"/api/v1/dashboard/private/{session_id}/{answer}/")
            assert response.status_code == 404 and error_code(response) == "not_found"
            assert snapshot(viewer, outsider) == before
    response = post(client, room.user, f"/api/v1/dashboard/private/{session_id}/accept/")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["periods_billed"], body["tokens_charged"]) == ("active", 1, 10)
    again = post(client, room.user, f"/api/v1/dashboard/private/{session_id}/accept/")
    assert again.status_code == 200 and again.json()["periods_billed"] == 1  # one outcome
    assert ledger.wallet_balance(viewer) == 90


def test_decline_voids_the_hold(client, room, viewer):
    fund(viewer, 100)
    session_id = request_private(client, viewer).json()["id"]
    response = post(client, room.user, f"/api/v1/dashboard/private/{session_id}/decline/")
    assert response.status_code == 200 and response.json()["status"] == "declined"
    assert (ledger.wallet_balance(viewer), ledger.held_tokens(viewer)) == (100, 0)


def test_detail_and_end_either_side_strangers_refused(client, room, viewer, outsider):
    fund(viewer, 100)
    session_id = request_private(client, viewer).json()["id"]
    post(client, room.user, f"/api/v1/dashboard/private/{session_id}/accept/")
    client.force_login(outsider)
    assert client.get(f"/api/v1/private/{session_id}/").status_code == 404
    before = snapshot(viewer, outsider)
    assert post(client, outsider, f"/api/v1/private/{session_id}/end/").status_code == 404
    assert snapshot(viewer, outsider) == before
    client.force_login(viewer)
    detail = client.get(f"/api/v1/private/{session_id}/").json()
    assert set(detail) >= {"id", "kind", "status", "periods_billed", "tokens_charged", "hold_tokens"}
    assert detail["started_at"] is not None and detail["ended_at"] is None
    ended = post(client, viewer, f"/api/v1/private/{session_id}/end/")
    assert ended.status_code == 200
    body = ended.json()
    # Ended by the payer at once: the minimum (3 periods of 10) is charged, nothing stays held.
    assert (body["status"], body["periods_billed"], body["tokens_charged"], body["hold_tokens"]) == (
        "ended",
        3,
        30,
        0,
    )
    assert post(client, room.user, f"/api/v1/private/{session_id}/end/").json() == body  # end twice: one outcome
    assert (ledger.wallet_balance(viewer), ledger.held_tokens(viewer)) == (70, 0)


def test_spy_joins_the_running_private(client, room, viewer, outsider):
    fund(viewer, 100)
    fund(outsider, 50)
    session_id = request_private(client, viewer).json()["id"]
    post(client, room.user, f"/api/v1/dashboard/private/{session_id}/accept/")
    response = request_private(client, outsider, kind="spy")
    assert response.status_code == 201
    assert response.json()["status"] == "active" and response.json()["rate_tokens"] == 4
    assert ledger.wallet_balance(outsider) == 46


def test_settings_read_and_written_within_platform_limits(client, room, viewer):
    client.force_login(room.user)
    assert client.get("/api/v1/dashboard/private-settings/").json()["rate_tokens"] == 10
    ok = client.patch("/api/v1/dashboard/private-settings/", {"rate_tokens": 12}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["rate_tokens"] == 12
    too_high = settings.PRIVATE_RATE_MAX_TOKENS + 1
    bad = client.patch(
        "/api/v1/dashboard/private-settings/", {"rate_tokens": too_high}, content_type="application/json"
    )
    assert bad.status_code == 400 and error_code(bad) == "bad_price"
    bad = client.patch(
        "/api/v1/dashboard/private-settings/",
        {"minimum_minutes": settings.PRIVATE_MINIMUM_MINUTES_MAX + 1},
        content_type="application/json",
    )
    assert bad.status_code == 400 and error_code(bad) == "bad_minimum"
    assert RoomPrivateSettings.objects.get(performer=room).rate_tokens == 12
    client.force_login(viewer)
    refused = client.patch("/api/v1/dashboard/private-settings/", {"rate_tokens": 99}, content_type="application/json")
    assert refused.status_code == 403
    assert RoomPrivateSettings.objects.get(performer=room).rate_tokens == 12


def test_group_show_announce_and_join(client, room, viewer, outsider):
    fund(viewer, 100)
    refused = post(
        client, viewer, "/api/v1/dashboard/group-shows/", {"rate_tokens": 5, "goal_viewers": 2, "window_minutes": 5}
    )
    assert refused.status_code == 403 and not GroupShow.objects.exists()
    bad = post(
        client, room.user, "/api/v1/dashboard/group-shows/", {"rate_tokens": 5, "goal_viewers": 1, "window_minutes": 5}
    )
    assert bad.status_code == 400 and error_code(bad) == "bad_goal" and not GroupShow.objects.exists()
    made = post(
        client, room.user, "/api/v1/dashboard/group-shows/", {"rate_tokens": 5, "goal_viewers": 2, "window_minutes": 5}
    )
    assert made.status_code == 201 and made.json()["pledges"] == 0
    group_id = made.json()["id"]
    before = snapshot(outsider)
    poor = post(client, outsider, f"/api/v1/group-shows/{group_id}/join/")
    assert poor.status_code == 402 and snapshot(outsider) == before
    joined = post(client, viewer, f"/api/v1/group-shows/{group_id}/join/")
    assert joined.status_code == 201
    assert (joined.json()["status"], joined.json()["hold_tokens"]) == ("requested", 5)
    assert post(client, viewer, "/api/v1/group-shows/999999/join/").status_code == 404


def test_pending_requests_list_names_the_viewer(client, room, viewer, outsider):
    fund(viewer, 100)
    request_private(client, viewer)
    client.force_login(room.user)
    [pending] = client.get("/api/v1/dashboard/private/").json()
    assert pending["viewer"] == "viewer" and pending["member_since"]
    client.force_login(outsider)
    assert client.get("/api/v1/dashboard/private/").status_code == 403


def test_services_still_refuse_without_the_api(room, viewer):
    """The API asks access first, the services keep their own room checks."""
    with pytest.raises(services.PrivateError):
        services.request_private(user=room.user, performer=room)


def test_receipt_lists_periods_and_total_for_the_two_sides_only(client, room, viewer, outsider):
    fund(viewer, 100)
    session_id = request_private(client, viewer).json()["id"]
    post(client, room.user, f"/api/v1/dashboard/private/{session_id}/accept/")
    post(client, viewer, f"/api/v1/private/{session_id}/end/")
    page = client.get(f"/private/{session_id}/receipt/")
    assert page.status_code == 200
    html = page.content.decode()
    # Ended by the payer at once: the 3-minute minimum at 10 tokens.
    assert html.count("data-receipt-line") == 3
    assert "30 tokens</td>" in html
    client.force_login(room.user)
    assert client.get(f"/private/{session_id}/receipt/").status_code == 200
    client.force_login(outsider)
    assert client.get(f"/private/{session_id}/receipt/").status_code == 404


def test_dashboard_page_saves_settings_through_the_price_rules(client, room, viewer):
    client.force_login(room.user)
    page = client.get("/dashboard/private-shows/")
    assert page.status_code == 200 and "Prices and options" in page.content.decode()
    form = {
        "form": "settings",
        "privates_enabled": "on",
        "rate_tokens": "15",
        "minimum_minutes": "2",
        "exclusive_rate_tokens": "30",
        "spy_rate_tokens": "5",
    }
    assert client.post("/dashboard/private-shows/", form).status_code == 302
    room_settings = RoomPrivateSettings.objects.get(performer=room)
    assert (room_settings.rate_tokens, room_settings.spies_enabled, room_settings.privates_enabled) == (15, False, True)
    too_high = {**form, "rate_tokens": str(settings.PRIVATE_RATE_MAX_TOKENS + 1)}
    refused = client.post("/dashboard/private-shows/", too_high)
    assert refused.status_code == 400 and "tokens per minute" in refused.content.decode()
    assert RoomPrivateSettings.objects.get(performer=room).rate_tokens == 15
    client.force_login(viewer)
    assert client.get("/dashboard/private-shows/").status_code == 403

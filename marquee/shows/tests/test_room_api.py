"""Room API, room page player/paywall, stream settings, thumbnails: who gets
what, and a stranger is refused with nothing changed."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from marquee.audit.models import AuditEvent
from marquee.performers.selectors import stream_key_matches
from marquee.shows import thumbnails
from marquee.shows.models import Show
from tests.factories import ShowFactory


@pytest.fixture(autouse=True)
def _media_settings(settings, tmp_path):
    settings.MEDIA_PUBLIC_URL = "http://media.test:8081"
    settings.MEDIA_PLAYBACK_SECRET = "playback-secret"
    settings.PLAYBACK_URL_TTL = 120
    settings.MEDIA_VAR_DIR = tmp_path


def live_show(performer, **kwargs):
    return ShowFactory(performer=performer, status=Show.Status.LIVE, started_at=timezone.now(), **kwargs)


def nginx_md5(text: str) -> str:
    """What nginx secure_link_md5 computes: base64url(md5), no padding."""
    return base64.urlsafe_b64encode(hashlib.md5(text.encode()).digest()).decode().rstrip("=")


def room(client, username="performer"):
    return client.get(f"/api/v1/rooms/{username}/")


def test_offline_room(client, performer):
    body = room(client).json()
    assert body["is_live"] is False
    assert body["show"] is None
    assert body["playback_url"] is None


def test_public_show_gives_a_gated_anonymous_visitor_a_signed_url(age_ok_client, performer):
    show = live_show(performer, title="Hello")
    response = room(age_ok_client)
    body = response.json()
    assert response["Cache-Control"] == "private, no-store"
    assert body["is_live"] is True
    assert body["show"] == {"id": show.pk, "kind": "public", "title": "Hello", "price_cents": 0}
    assert body["paywall"] is None
    url = urlsplit(body["playback_url"])
    assert f"{url.scheme}://{url.netloc}" == "http://media.test:8081"
    _, v, viewer, show_id, expires, sig, stream, file = url.path.split("/")
    assert (v, viewer, show_id, stream, file) == ("v", "anon", str(show.pk), "performer", "index.m3u8")
    assert int(expires) == body["playback_expires_at"]
    assert 110 <= int(expires) - timezone.now().timestamp() <= 121
    # The show enters the signed string: a URL of one show is no URL of the next.
    assert sig == nginx_md5(f"{expires}:anon:{show.pk}:performer:playback-secret")


def test_anonymous_api_caller_who_never_passed_the_age_gate_gets_no_playback_url(client, performer):
    live_show(performer)
    response = room(client)
    body = response.json()
    assert response.status_code == 200
    assert body["is_live"] is True
    assert body["playback_url"] is None and body["playback_expires_at"] is None
    assert body["denied"]["code"] == "age_gate"
    # Declaring it in the session (the gate) is what opens it.
    session = client.session
    session["age_gate_passed"] = True
    session.save()
    assert room(client).json()["playback_url"] is not None


def test_api_caller_with_an_adult_account_passes_the_gate_without_a_session(performer, viewer):
    from allauth.headless.tokens.strategies.jwt.internal import create_access_token
    from django.test import Client

    live_show(performer)
    login = Client()
    login.force_login(viewer)
    token = create_access_token(viewer, login.session, {})
    app = Client()
    body = app.get("/api/v1/rooms/performer/", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert urlsplit(body["playback_url"]).path.split("/")[2] == f"u{viewer.pk}"


def test_signed_url_is_bound_to_the_logged_in_viewer(client, performer, viewer):
    live_show(performer)
    client.force_login(viewer)
    path = urlsplit(room(client).json()["playback_url"]).path
    assert path.split("/")[2] == f"u{viewer.pk}"


def test_premium_show_without_ticket_gets_the_paywall(client, performer, viewer):
    show = live_show(performer, kind="premium", price_cents=799)
    client.force_login(viewer)
    body = room(client).json()
    assert body["playback_url"] is None
    assert body["paywall"]["product"] == "ticket"
    assert body["paywall"]["show_id"] == show.pk
    assert body["paywall"]["price_cents"] == 799
    assert body["paywall"]["price_display"] == "7.99"
    assert body["paywall"]["message"] == "This stream is premium. Purchase access to watch."


def test_premium_show_with_ticket_plays(client, performer, viewer, monkeypatch):
    show = live_show(performer, kind="premium", price_cents=799)
    monkeypatch.setattr(
        "marquee.billing.selectors.has_show_ticket", lambda user, s: user.pk == viewer.pk and s.pk == show.pk
    )
    client.force_login(viewer)
    assert room(client).json()["playback_url"] is not None


def test_performer_watches_own_premium_show(client, performer):
    live_show(performer, kind="premium", price_cents=799)
    client.force_login(performer.user)
    assert room(client).json()["playback_url"] is not None


def test_hidden_room_is_a_404_for_strangers(client, performer, viewer):
    live_show(performer)
    performer.is_suspended = True
    performer.save()
    client.force_login(viewer)
    response = room(client)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert room(client, "nobody").status_code == 404


def test_room_page_shows_the_paywall(client, performer, viewer):
    live_show(performer, kind="premium", price_cents=799)
    client.force_login(viewer)
    html = client.get("/rooms/performer/").content.decode()
    assert "This stream is premium. Purchase access to watch." in html
    assert "Buy for $7.99" in html
    assert 'data-room-api="/api/v1/rooms/performer/"' in html
    assert "js/player.js" in html
    # Strict CSP: no inline script or style in the player.
    assert "<script>" not in html and "style=" not in html


def test_room_page_for_a_public_show_has_no_paywall(client, performer, viewer):
    live_show(performer)
    client.force_login(viewer)
    html = client.get("/rooms/performer/").content.decode()
    assert "data-paywall hidden" in html
    assert "<video data-player-video" in html


# --- stream settings ----------------------------------------------------------------


def test_stream_settings_show_the_key_once(client, performer):
    client.force_login(performer.user)
    page = client.get(reverse("stream_settings")).content.decode()
    assert "rtmp://127.0.0.1:" in page and "/live" in page
    assert "Your account may go live." in page
    response = client.post(reverse("stream_settings"))
    html = response.content.decode()
    performer.refresh_from_db()
    start = html.index("performer?key=") + len("performer?key=")
    secret = html[start : html.index("<", start)]
    assert stream_key_matches(performer, secret)
    assert secret not in performer.stream_key_hash
    assert AuditEvent.objects.filter(action="performer.stream_key_regenerated", actor_id=performer.user_id).exists()
    assert secret not in client.get(reverse("stream_settings")).content.decode()


def test_stream_settings_say_why_a_performer_cannot_go_live(client, performer):
    performer.verification_status = "pending"
    performer.save()
    client.force_login(performer.user)
    page = client.get(reverse("stream_settings")).content.decode()
    assert "Identity verification must be approved before going live." in page


def test_stream_settings_are_for_performers_only(client, viewer, performer, stream_key):
    assert client.get(reverse("stream_settings")).status_code == 302
    client.force_login(viewer)
    assert client.post(reverse("stream_settings")).status_code == 404
    performer.refresh_from_db()
    assert stream_key_matches(performer, stream_key)


def test_stream_key_api(client, performer, viewer, stream_key):
    client.force_login(viewer)
    response = client.post("/api/v1/me/stream-key/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_a_performer"
    performer.refresh_from_db()
    assert stream_key_matches(performer, stream_key)
    client.force_login(performer.user)
    assert client.get("/api/v1/me/stream-key/").json()["stream_key"] is None
    body = client.post("/api/v1/me/stream-key/").json()
    username, secret = body["stream_key"].split("?key=")
    performer.refresh_from_db()
    assert username == "performer"
    assert stream_key_matches(performer, secret)
    assert not stream_key_matches(performer, stream_key)


# --- thumbnails ----------------------------------------------------------------------


def _fake_thumbnail():
    path = thumbnails.thumbnail_path("performer")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8fakejpeg")
    return path


def test_thumbnail_served_only_to_viewers_who_may_see_the_performer(client, performer, viewer):
    live_show(performer)
    _fake_thumbnail()
    client.force_login(viewer)
    response = client.get("/rooms/performer/thumbnail.jpg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response.content == b"\xff\xd8fakejpeg"
    performer.is_suspended = True
    performer.save()
    assert client.get("/rooms/performer/thumbnail.jpg").status_code == 404


def test_missing_thumbnail_is_a_404(client, performer, viewer):
    client.force_login(viewer)
    assert client.get("/rooms/performer/thumbnail.jpg").status_code == 404


def test_offline_room_serves_no_leftover_frame(client, performer, viewer):
    _fake_thumbnail()
    client.force_login(viewer)
    assert client.get("/rooms/performer/thumbnail.jpg").status_code == 404


@pytest.mark.parametrize("kind", ["premium", "subscribers", "private"])
def test_frames_of_a_paid_or_private_show_go_only_to_who_may_watch_it(client, performer, viewer, kind, monkeypatch):
    live_show(performer, kind=kind, price_cents=799 if kind == "premium" else 0)
    _fake_thumbnail()
    client.force_login(viewer)
    assert client.get("/rooms/performer/thumbnail.jpg").status_code == 404
    # The performer and a viewer entitled to the show see it.
    entitled = "marquee.billing.selectors." + (
        "has_active_subscription" if kind == "subscribers" else "has_show_ticket"
    )
    monkeypatch.setattr(entitled, lambda user, target: user.pk == viewer.pk)
    assert client.get("/rooms/performer/thumbnail.jpg").status_code == 200
    client.force_login(performer.user)
    assert client.get("/rooms/performer/thumbnail.jpg").status_code == 200


@pytest.mark.parametrize("kind", ["premium", "subscribers", "private"])
def test_worker_never_captures_frames_of_a_non_public_show(performer, kind, monkeypatch):
    from marquee.shows import tasks

    captured = []
    monkeypatch.setattr(thumbnails, "refresh_thumbnail", lambda username, **kw: captured.append(username))
    leftover = _fake_thumbnail()  # the public show's last frame
    live_show(performer, kind=kind, price_cents=799 if kind == "premium" else 0)
    tasks.refresh_live_thumbnail("performer")
    assert captured == []
    assert not leftover.exists()


def test_worker_captures_frames_of_a_public_show(performer, monkeypatch):
    from marquee.shows import tasks

    captured = []
    monkeypatch.setattr(thumbnails, "refresh_thumbnail", lambda username, **kw: captured.append(username))
    live_show(performer)
    tasks.refresh_live_thumbnail("performer")
    assert captured == ["performer"]

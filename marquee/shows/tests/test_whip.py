"""WHIP endpoint refusals and the relay's ingest credential, without a media
server: every refusal is a 4xx JSON code and starts nothing (no peer, no
ffmpeg, no show)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import time

import pytest
from django.core import signing
from django.test import Client

from marquee.audit.models import AuditEvent
from marquee.shows import ingest_credentials
from marquee.shows.models import Show
from marquee.shows.tests.test_hooks import SECRET, publish, snapshot
from marquee.shows.whip_relay import Session, relay
from tests.factories import PerformerFactory, ShowFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/whip/"
OFFER = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


@pytest.fixture(autouse=True)
def _hook_settings(settings):
    settings.MEDIA_HOOK_SECRET = SECRET


@pytest.fixture
def opened(monkeypatch):
    """Calls that reached the relay (each would start a peer and, later, ffmpeg)."""
    calls = []

    def fake_open(**kwargs):
        calls.append(kwargs)
        relay.sessions["s1"] = Session(id="s1", user_id=kwargs["user_id"], ingest_url=kwargs["ingest_url"], pc=None)
        return "s1", "v=0\r\nanswer\r\n"

    monkeypatch.setattr(relay, "open", fake_open)
    monkeypatch.setattr(relay, "close", lambda session_id: relay.sessions.pop(session_id))
    yield calls
    relay.sessions.clear()


def offer(client, body=OFFER, content_type="application/sdp", **extra):
    return client.generic("POST", URL, body, content_type=content_type, **extra)


def logged_in(user, **kwargs):
    client = Client(**kwargs)
    client.force_login(user)
    return client


def assert_refused(response, status, code, opened, before):
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert opened == []
    assert relay.sessions == {}
    assert snapshot() == before


def test_performer_offer_gets_answer_and_location_with_a_credential_not_the_key(performer, opened):
    response = offer(logged_in(performer.user))
    assert response.status_code == 201
    assert response["Content-Type"] == "application/sdp"
    assert response.content == b"v=0\r\nanswer\r\n"
    assert response["Location"] == "/api/v1/me/whip/s1/"
    (call,) = opened
    assert call["offer_sdp"] == OFFER
    base, credential = call["ingest_url"].split("?key=")
    assert base.endswith("/live/performer")
    assert ingest_credentials.redeem(performer, credential)


def test_anonymous_is_refused_and_nothing_starts(client, performer, opened):
    before = snapshot()
    assert_refused(offer(client), 401, "not_authenticated", opened, before)


def test_viewer_is_refused_and_nothing_starts(viewer, performer, opened):
    before = snapshot()
    assert_refused(offer(logged_in(viewer)), 403, "not_a_performer", opened, before)


def test_session_without_csrf_token_is_refused(performer, opened):
    before = snapshot()
    response = offer(logged_in(performer.user, enforce_csrf_checks=True))
    assert_refused(response, 403, "permission_denied", opened, before)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"is_suspended": True}, "suspended"),
        ({"verification_status": "pending"}, "not_verified"),
    ],
)
def test_performer_who_may_not_stream_is_refused(change, code, opened):
    performer = PerformerFactory(user=UserFactory(username="blocked"), **change)
    before = snapshot()
    assert_refused(offer(logged_in(performer.user)), 403, code, opened, before)


def test_performer_without_two_factor_is_refused(opened):
    performer = PerformerFactory(user=UserFactory(username="nototp"))
    before = snapshot()
    assert_refused(offer(logged_in(performer.user)), 403, "two_factor_required", opened, before)


def test_performer_already_live_is_refused(performer, opened):
    ShowFactory(performer=performer, status=Show.Status.LIVE, media_session="obs")
    before = snapshot()
    assert_refused(offer(logged_in(performer.user)), 409, "already_live", opened, before)


def test_wrong_content_type_is_refused(performer, opened):
    before = snapshot()
    response = offer(logged_in(performer.user), body='{"sdp": "x"}', content_type="application/json")
    assert_refused(response, 415, "unsupported_media_type", opened, before)


def test_jwt_caller_may_offer(performer, opened):
    from allauth.headless.tokens.strategies.jwt.internal import create_access_token

    login = logged_in(performer.user)
    token = create_access_token(performer.user, login.session, {})
    response = offer(Client(enforce_csrf_checks=True), HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 201


def test_stranger_cannot_end_someone_elses_session(performer, outsider, opened):
    assert offer(logged_in(performer.user)).status_code == 201
    response = logged_in(outsider).delete("/api/v1/me/whip/s1/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert list(relay.sessions) == ["s1"]
    # Its owner can.
    assert logged_in(performer.user).delete("/api/v1/me/whip/s1/").status_code == 200
    assert relay.sessions == {}


def test_malformed_offer_is_a_400_and_no_peer_stays(performer):
    response = offer(logged_in(performer.user), body="not sdp at all")
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"bad_offer", "no_video"}
    assert relay.sessions == {}


# --- the credential the relay publishes with ----------------------------------


def test_hook_accepts_a_minted_credential_once(client, performer):
    credential = ingest_credentials.mint(performer)
    assert publish(client, "performer", credential, session="w1").status_code == 200
    assert Show.objects.get(performer=performer).status == Show.Status.LIVE
    Show.objects.update(status=Show.Status.ENDED)
    # Replayed (e.g. read from a process list): refused.
    assert publish(client, "performer", credential, session="w2").status_code == 403
    assert not Show.objects.filter(status=Show.Status.LIVE).exists()


def test_hook_refuses_another_performers_credential(client, performer):
    other = PerformerFactory(user=UserFactory(username="other"))
    before = snapshot()
    assert publish(client, "performer", ingest_credentials.mint(other)).status_code == 403
    assert snapshot() == before
    refused = AuditEvent.objects.get(action="media.publish_refused")
    assert refused.details["code"] == "bad_key"


def test_hook_refuses_an_expired_or_forged_credential(client, performer, settings, monkeypatch):
    settings.INGEST_CREDENTIAL_SECONDS = 5
    credential = ingest_credentials.mint(performer)
    now = time.time()
    monkeypatch.setattr(signing.time, "time", lambda: now + 6)
    before = snapshot()
    assert publish(client, "performer", credential).status_code == 403
    monkeypatch.setattr(signing.time, "time", lambda: now)
    assert publish(client, "performer", credential[:-2] + "xx").status_code == 403
    assert snapshot() == before


def test_credential_still_needs_the_go_live_checks(client, performer):
    performer.is_suspended = True
    performer.save(update_fields=["is_suspended"])
    before = snapshot()
    assert publish(client, "performer", ingest_credentials.mint(performer)).status_code == 403
    assert snapshot() == before
    assert AuditEvent.objects.get(action="media.publish_refused").details["code"] == "suspended"


@pytest.mark.media
@pytest.mark.skipif(not shutil.which("ffmpeg"), reason="needs ffmpeg")
def test_relay_ends_the_peer_when_its_ffmpeg_exits(settings, tmp_path):
    """No RTMP server answers (as when the hook refuses): ffmpeg exits, and the
    peer, pipes and session go with it."""
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription, VideoStreamTrack

    settings.MEDIA_VAR_DIR = tmp_path
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]

    async def scenario():
        client = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        client.addTrack(VideoStreamTrack())
        await client.setLocalDescription(await client.createOffer())
        url = f"rtmp://127.0.0.1:{closed_port}/live/nobody?key=x"
        session_id, answer = await asyncio.to_thread(
            relay.open, offer_sdp=client.localDescription.sdp, user_id=1, ingest_url=url
        )
        session = relay.sessions[session_id]
        await client.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        torn_down = await asyncio.to_thread(session.torn_down.wait, 30)
        await client.close()
        return session, torn_down

    session, torn_down = asyncio.run(scenario())
    assert torn_down
    assert session.ffmpeg is not None  # frames arrived and ffmpeg was started
    assert session.ffmpeg.poll() is not None
    assert session.pc.connectionState == "closed"
    assert relay.sessions == {}

"""WebRTC in private shows (issue 16 items 3 and 4) through the API with a
real aiortc client: WHEP for the payer and the performer only, cam2cam only
when the room allows it and only payer → performer; each refusal creates
nothing; ending the private closes every peer at once.  The show's source is
an FLV file written by ffmpeg standing in for the RTMP application (the
browser test in test_webrtc_browser.py uses the real nginx-rtmp)."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from marquee.privates import services
from marquee.privates.models import PrivateShow
from marquee.privates.tests.conftest import fund
from marquee.privates.tests.test_private_flow import snapshot
from marquee.shows.webrtc_egress import CAMERA_IN, CAMERA_OUT, WATCH, egress
from marquee.shows.whip_relay import relay
from tests.support.compliance import approve_age
from tests.support.webrtc import PeerClient, loopback_ice  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("loopback_ice"),
    pytest.mark.media,
    pytest.mark.skipif(not shutil.which("ffmpeg"), reason="needs ffmpeg"),
]

SDP = "application/sdp"


@pytest.fixture
def source(tmp_path, settings):
    """``<MEDIA_WEBRTC_SOURCE_URL>/performer``: 20 s of test pattern as FLV."""
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=15",
            "-t", "20", "-c:v", "libx264", "-preset", "ultrafast", "-g", "15", "-f", "flv", str(tmp_path / "performer"),
        ],
        check=True,
    )  # fmt: skip
    settings.MEDIA_WEBRTC_SOURCE_URL = str(tmp_path)
    settings.MEDIA_WEBRTC_RECHECK_SECONDS = 300  # the recheck has its own test
    yield tmp_path
    egress.shutdown()


@pytest.fixture
def running(room, viewer, outsider):
    """The viewer's private with the performer is running."""
    for user in (viewer, outsider):
        approve_age(user)
        fund(user, 500)
    session = services.request_private(user=viewer, performer=room)
    return services.accept(actor=room.user, session=session)


@pytest.fixture
def peers():
    made = []

    def make():
        made.append(PeerClient())
        return made[-1]

    yield make
    for peer in made:
        peer.close()


def offer_to(client, user, url, sdp):
    client.force_login(user)
    return client.post(url, sdp, content_type=SDP)


def error_code(response):
    return response.json()["error"]["code"]


def whep(pk):
    return f"/api/v1/private/{pk}/whep/"


def test_payer_and_performer_watch_over_webrtc(client, source, running, viewer, room, peers):
    for user in (viewer, room.user):
        peer = peers()
        response = offer_to(client, user, whep(running.pk), peer.offer())
        assert response.status_code == 201, response.content
        assert response["Content-Type"] == SDP
        assert response["Location"].startswith(f"/api/v1/private/{running.pk}/webrtc/")
        peer.answer(response.content.decode())
        frame = peer.frame()
        assert (frame.width, frame.height) == (160, 90)
    assert sorted(p.user_id for p in egress.peers_of(running.pk, WATCH)) == sorted([viewer.pk, room.user_id])
    # Both watch one decode of the stream.
    assert len(egress._decodes) == 1 and egress._decodes["performer"].users == 2


def test_the_room_state_offers_webrtc_to_the_payer_and_performer_only(client, running, viewer, room, outsider):
    services.request_private(user=outsider, performer=room, kind="spy")
    seen = {}
    for user in (viewer, room.user, outsider):
        client.force_login(user)
        seen[user.username] = client.get("/api/v1/rooms/performer/").json()["private"]["webrtc_url"]
    assert seen == {"viewer": whep(running.pk), "performer": whep(running.pk), "outsider": None}


@pytest.mark.parametrize("who", ["stranger", "spy", "anonymous"])
def test_strangers_and_spies_are_refused_and_nothing_is_created(client, source, running, viewer, room, outsider, who):
    if who == "spy":
        services.request_private(user=outsider, performer=room, kind="spy")
    offer = PeerClient()
    try:
        sdp = offer.offer()
    finally:
        offer.close()
    before = snapshot(viewer, outsider)
    if who == "anonymous":
        client.logout()
        response = client.post(whep(running.pk), sdp, content_type=SDP)
        assert response.status_code in (401, 403)
    else:
        response = offer_to(client, outsider, whep(running.pk), sdp)
        assert (response.status_code, error_code(response)) == (403, "not_in_show")
    assert egress.peers == {} and egress._decodes == {}
    assert snapshot(viewer, outsider) == before


def test_a_private_that_is_not_running_is_refused(client, source, room, viewer):
    approve_age(viewer)
    fund(viewer, 500)
    requested = services.request_private(user=viewer, performer=room)
    peer = PeerClient()
    try:
        response = offer_to(client, viewer, whep(requested.pk), peer.offer())
    finally:
        peer.close()
    assert (response.status_code, error_code(response)) == (409, "not_running")
    assert egress.peers == {}
    assert offer_to(client, viewer, whep(requested.pk + 1000), "v=0").status_code == 404


def test_a_bad_offer_is_a_400_and_leaves_no_peer(client, source, running, viewer):
    response = offer_to(client, viewer, whep(running.pk), "v=0\r\nnot sdp")
    assert (response.status_code, error_code(response)) == (400, "no_video")
    client.force_login(viewer)
    response = client.post(whep(running.pk), {"sdp": "x"}, content_type="application/json")
    assert response.status_code == 415
    assert egress.peers == {} and egress._decodes == {}


def test_ending_the_private_closes_every_peer_at_once(
    client, source, running, viewer, room, peers, django_capture_on_commit_callbacks
):
    clients = []
    for user in (viewer, room.user):
        peer = peers()
        response = offer_to(client, user, whep(running.pk), peer.offer())
        peer.answer(response.content.decode())
        peer.frame()
        clients.append(peer)
    closing = list(egress.peers.values())
    client.force_login(viewer)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/api/v1/private/{running.pk}/end/").status_code == 200
    # Closed by the time the end request returned, not at the next recheck.
    assert egress.peers == {}
    assert all(p.torn_down.is_set() for p in closing)
    assert egress._decodes == {}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(c.state() != "closed" for c in clients):
        time.sleep(0.1)
    assert [c.state() for c in clients] == ["closed", "closed"]


def test_a_peer_is_deleted_only_by_its_owner(client, source, running, viewer, room, peers):
    peer = peers()
    location = offer_to(client, viewer, whep(running.pk), peer.offer())["Location"]
    client.force_login(room.user)
    assert client.delete(location).status_code == 404
    assert len(egress.peers) == 1
    client.force_login(viewer)
    assert client.delete(location).status_code == 200
    assert egress.peers == {}
    assert client.delete(location).status_code == 404


def test_the_recheck_closes_a_peer_the_rule_no_longer_allows(source, settings, peers):
    settings.MEDIA_WEBRTC_RECHECK_SECONDS = 1
    allowed = [True]
    peer = peers()
    peer_id, _answer = egress.watch(
        offer_sdp=peer.offer(), user_id=1, tag=99, stream="performer", performer_user_id=1, recheck=lambda: allowed[-1]
    )
    time.sleep(1.5)
    assert peer_id in egress.peers
    allowed.append(False)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and peer_id in egress.peers:
        time.sleep(0.1)
    assert peer_id not in egress.peers


def test_a_whip_broadcast_is_relayed_without_the_rtmp_decode(client, source, running, viewer, room, peers):
    """The performer went live from the browser: WHEP takes the WHIP relay's tracks."""

    class FakeWhip:
        user_id = room.user_id
        closed = False

    # A generated track standing in for the WHIP session's incoming one.
    from aiortc.contrib.media import MediaRelay
    from aiortc.mediastreams import VideoStreamTrack

    fake = FakeWhip()
    fake.fanout = MediaRelay()
    fake.tracks = {"video": VideoStreamTrack()}
    relay.sessions["fake"] = fake
    try:
        peer = peers()
        response = offer_to(client, viewer, whep(running.pk), peer.offer())
        assert response.status_code == 201, response.content
        peer.answer(response.content.decode())
        frame = peer.frame()
        # VideoStreamTrack's 640×480, not the 160×90 RTMP source.
        assert (frame.width, frame.height) == (640, 480)
        assert egress._decodes == {}
    finally:
        del relay.sessions["fake"]


# --- cam2cam ------------------------------------------------------------------------


def cam(pk, view=False):
    return f"/api/v1/private/{pk}/cam2cam/" + ("whep/" if view else "")


def allow_cam2cam(room):
    services.update_room_settings(actor=room.user, performer=room, cam2cam_enabled=True)


def test_cam2cam_payer_camera_reaches_the_performer_only(client, source, running, viewer, room, outsider, peers):
    allow_cam2cam(room)
    client.force_login(viewer)
    assert client.get("/api/v1/rooms/performer/").json()["private"]["cam2cam_url"] == cam(running.pk)
    sender = peers()
    response = offer_to(client, viewer, cam(running.pk), sender.offer(receive=(), send_video=True))
    assert response.status_code == 201, response.content
    sender.answer(response.content.decode())

    # Only the performer may see it; the payer's own view is refused.
    refused = peers()
    response = offer_to(client, viewer, cam(running.pk, view=True), refused.offer())
    assert (response.status_code, error_code(response)) == (403, "not_performer")
    response = offer_to(client, outsider, cam(running.pk, view=True), refused.offer())
    assert (response.status_code, error_code(response)) == (403, "not_in_show")

    viewer_cam = peers()
    response = offer_to(client, room.user, cam(running.pk, view=True), viewer_cam.offer())
    assert response.status_code == 201, response.content
    viewer_cam.answer(response.content.decode())
    frame = viewer_cam.frame()
    assert (frame.width, frame.height) == (640, 480)  # the payer's VideoStreamTrack
    assert sorted(p.role for p in egress.peers_of(running.pk)) == [CAMERA_IN, CAMERA_OUT]
    # Never recorded: no relay to RTMP, nothing but the two peers.
    assert relay.sessions == {} and egress._decodes == {}


@pytest.mark.parametrize("case", ["off", "performer_sends", "not_running", "stranger"])
def test_cam2cam_refusals_create_nothing(client, source, running, viewer, room, outsider, case):
    expected = {
        "off": (viewer, 403, "cam2cam_off"),
        "performer_sends": (room.user, 403, "not_payer"),
        "not_running": (viewer, 409, "not_running"),
        "stranger": (outsider, 403, "not_in_show"),
    }[case]
    if case != "off":
        allow_cam2cam(room)
    pk = running.pk
    if case == "not_running":
        services.end_private(actor=viewer, session=PrivateShow.objects.get(pk=pk))
    sender = PeerClient()
    try:
        sdp = sender.offer(receive=(), send_video=True)
    finally:
        sender.close()
    before = snapshot(viewer, outsider)
    user, status, code = expected
    response = offer_to(client, user, cam(pk), sdp)
    assert (response.status_code, error_code(response)) == (status, code)
    assert egress.peers == {}
    assert snapshot(viewer, outsider) == before


def test_the_performer_cannot_view_a_camera_nobody_sends(client, source, running, room):
    allow_cam2cam(room)
    peer = PeerClient()
    try:
        response = offer_to(client, room.user, cam(running.pk, view=True), peer.offer())
    finally:
        peer.close()
    assert (response.status_code, error_code(response)) == (409, "no_camera")
    assert egress.peers == {}


def test_cam2cam_setting_is_validated_where_private_settings_are(client, room):
    client.force_login(room.user)
    url = "/api/v1/dashboard/private-settings/"
    response = client.patch(url, {"cam2cam_enabled": "sometimes"}, content_type="application/json")
    assert response.status_code == 400
    assert client.get(url).json()["cam2cam_enabled"] is False
    response = client.patch(url, {"cam2cam_enabled": True}, content_type="application/json")
    assert response.status_code == 200 and response.json()["cam2cam_enabled"] is True


def test_a_real_whip_session_feeds_both_its_ffmpeg_and_a_whep_viewer(
    client, source, running, viewer, room, peers, tmp_path, settings
):
    """The relay's tracks are fanned out: the WHIP session keeps feeding its
    ffmpeg (here writing FLV to a file instead of nginx) while the payer
    watches the same frames over WHEP, with no RTMP decode."""
    settings.MEDIA_VAR_DIR = tmp_path
    flv = tmp_path / "relay.flv"  # the relay's ffmpeg writes here instead of nginx
    camera = peers()
    session_id, answer = relay.open(
        offer_sdp=camera.offer(receive=(), send_video=True), user_id=room.user_id, ingest_url=str(flv)
    )
    try:
        camera.answer(answer)
        peer = peers()
        response = offer_to(client, viewer, whep(running.pk), peer.offer())
        assert response.status_code == 201, response.content
        peer.answer(response.content.decode())
        frame = peer.frame()
        assert (frame.width, frame.height) == (640, 480)  # the camera's frames, not the 160×90 file
        assert egress._decodes == {}
        # ffmpeg keeps getting the camera's frames beside the viewer.
        pipe = relay.sessions[session_id].pipes["video"]
        first = pipe.written
        peer.frame()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and pipe.written < first + 10:
            time.sleep(0.2)
        assert pipe.written >= first + 10
    finally:
        relay.close(session_id)

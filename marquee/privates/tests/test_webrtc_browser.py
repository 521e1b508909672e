"""Issue 16 items 3 and 4 in Chromium, on the real media server: the payer
of a private watches it over WebRTC (WHEP, aiortc decoding the performer's
RTMP stream from nginx-rtmp) in the room's own player; the performer's
preview falls back to HLS when WHEP is refused (here: the server is full);
the payer sends their (fake) camera and the performer sees it (cam2cam);
ending the private closes every peer at once and the payer is back on the
public HLS."""

from __future__ import annotations

import subprocess

import pytest

from marquee.privates import services
from marquee.privates.models import PrivateShow
from marquee.privates.tests.conftest import fund
from marquee.privates.tests.test_browser_private import _context
from marquee.shows.models import Show
from marquee.shows.publisher import publish_command
from marquee.shows.tests.test_media import (  # noqa: F401  (module fixtures: nginx-rtmp, ffmpeg)
    PLAYHEAD,
    live_performer,
    live_show_of,
    media,
    wait_for,
)
from marquee.shows.webrtc_egress import CAMERA_IN, CAMERA_OUT, WATCH, egress
from tests.factories import UserFactory
from tests.support.compliance import approve_age
from tests.support.db_turns import turn
from tests.support.webrtc import loopback_ice  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.media,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    # Chromium hides host candidates behind mDNS names unless told not to.
    pytest.mark.chromium_args(
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        "--autoplay-policy=no-user-gesture-required",
        "--disable-features=WebRtcHideLocalIpsWithMdns",
    ),
]

TRANSPORT = "document.querySelector('[data-player]').dataset.playerTransport || ''"
HAS_STREAM = "Boolean(document.querySelector('video[data-player-video]').srcObject)"
CAM_PLAYHEAD = "document.querySelector('video[data-cam2cam-video]').currentTime"


def test_payer_watches_the_private_over_webrtc_and_the_end_closes_it(
    media,  # noqa: F811
    live_server,
    settings,
    loopback_ice,  # noqa: F811
    launch_chromium,
):
    settings.MEDIA_WEBRTC_SOURCE_URL = f"rtmp://127.0.0.1:{media.config.rtmp_port}/live"
    settings.MEDIA_WEBRTC_RECHECK_SECONDS = 300  # the end event must do it, not the recheck
    performer, key = live_performer("rtcstar")
    services.update_room_settings(
        actor=performer.user,
        performer=performer,
        privates_enabled=True,
        rate_tokens=10,
        minimum_minutes=1,
        cam2cam_enabled=True,
    )
    payer = UserFactory(username="rtcpayer")
    approve_age(payer)
    fund(payer, 500)
    # A light source (160x90, 10 fps): on a starved machine the shared
    # fixture's publisher can send nothing for nginx's 10 s idle limit.
    ffmpeg = subprocess.Popen(
        publish_command(media.rtmp_url("rtcstar", key), size="160x90", fps=10),
        stdout=subprocess.DEVNULL,
        stderr=(media.config.var_dir / "logs" / "ffmpeg-rtcstar.log").open("ab"),
    )
    try:
        # From here nginx's hooks and the browser hit the live server, which
        # shares this thread's SQLite connection: database work takes turns.
        wait_for(lambda: turn(lambda: live_show_of(performer)), timeout=60, what="show live")
        wait_for(lambda: len(media.playlist_segments("rtcstar", "_src")) >= 2, timeout=60, what="HLS segments")
        session = turn(lambda: services.request_private(user=payer, performer=performer))
        session = turn(lambda: services.accept(actor=performer.user, session=session))
        room_url = f"{live_server.url}/rooms/rtcstar/"

        browser = launch_chromium()
        payer_page = _context(browser, live_server, payer).new_page()
        payer_page.goto(room_url)
        wait_for(lambda: payer_page.evaluate(TRANSPORT) == "webrtc", timeout=45, what="payer on WebRTC")
        assert payer_page.evaluate(HAS_STREAM)
        start = wait_for(lambda: payer_page.evaluate(PLAYHEAD) or None, timeout=20, what="WebRTC playing")
        wait_for(lambda: payer_page.evaluate(PLAYHEAD) > start + 1.5, timeout=20, what="WebRTC advancing")
        [peer] = egress.peers_of(session.pk, WATCH)
        assert peer.user_id == payer.pk

        # The server takes no more peers: the performer's preview stays on HLS.
        settings.MEDIA_WEBRTC_MAX_PEERS = 1
        performer_page = _context(browser, live_server, performer.user).new_page()
        whep_answers = []
        show_whep = f"/private/{session.pk}/whep/"
        performer_page.on("response", lambda r: whep_answers.append(r.status) if r.url.endswith(show_whep) else None)
        performer_page.goto(room_url)
        # (Playwright delivers the page's events during its own calls: evaluate first.)
        wait_for(
            lambda: performer_page.evaluate(PLAYHEAD) > 0.5 and whep_answers,
            timeout=45,
            what="performer refused WHEP and on HLS",
        )
        assert whep_answers == [503]
        assert performer_page.evaluate(TRANSPORT) == "hls"
        assert not performer_page.evaluate(HAS_STREAM)

        # cam2cam: the payer sends the fake camera, the performer sees it.
        settings.MEDIA_WEBRTC_MAX_PEERS = 4
        payer_page.locator("[data-cam2cam-start]").click()
        payer_page.locator("[data-cam2cam-stop]").wait_for(state="visible", timeout=20000)
        performer_page.locator("video[data-cam2cam-video]").wait_for(state="visible", timeout=30000)
        wait_for(lambda: performer_page.evaluate(CAM_PLAYHEAD) > 1, timeout=30, what="performer sees the camera")
        roles = sorted(p.role for p in egress.peers_of(session.pk))
        assert roles == sorted([WATCH, CAMERA_IN, CAMERA_OUT])
        peers = list(egress.peers.values())

        # Ending the private closes every peer at once (not at a recheck).
        turn(lambda: services.end_private(actor=performer.user, session=PrivateShow.objects.get(pk=session.pk)))
        assert egress.peers == {}
        assert peer.torn_down.is_set() and all(p.torn_down.is_set() for p in peers)
        performer_page.locator("video[data-cam2cam-video]").wait_for(state="hidden", timeout=30000)
        # The payer's player is back on the public show, over HLS.
        wait_for(lambda: payer_page.evaluate(TRANSPORT) == "hls", timeout=20, what="payer off WebRTC")
        wait_for(lambda: payer_page.evaluate(PLAYHEAD) > 0.5, timeout=30, what="payer on public HLS")
    finally:
        egress.shutdown()
        ffmpeg.terminate()
        ffmpeg.wait(10)
        # Let the publish-done hook finish before the test database is flushed.
        wait_for(
            lambda: turn(lambda: not Show.objects.filter(performer=performer, status=Show.Status.LIVE).exists()),
            timeout=60,
            what="publish done",
        )

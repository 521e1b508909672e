"""Go live from the browser: Chromium's fake camera → WHIP → aiortc → ffmpeg →
the real nginx-rtmp (hooks into a live Django server) → HLS for a viewer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.db import OperationalError
from django.test import Client, override_settings

from marquee.audit.models import AuditEvent
from marquee.shows.models import Show
from marquee.shows.tests.test_media import (
    HOOK_SECRET,
    LADDER,
    PLAYBACK_SECRET,
    PLAYHEAD,
    Media,
    live_performer,
    live_show_of,
    media_config,
    start_nginx,
    wait_for,
)
from marquee.shows.whip_relay import relay
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.media,
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("nginx") or not shutil.which("ffmpeg"), reason="needs nginx and ffmpeg"),
    pytest.mark.chromium_args(
        "--autoplay-policy=no-user-gesture-required",
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
    ),
]


@pytest.fixture
def whip_media(django_db_setup, live_server, tmp_path):
    var_dir: Path = tmp_path / "media"
    var_dir.mkdir()
    config = media_config(var_dir, live_server)
    overrides = override_settings(
        MEDIA_VAR_DIR=var_dir,
        MEDIA_HOOK_SECRET=HOOK_SECRET,
        MEDIA_PLAYBACK_SECRET=PLAYBACK_SECRET,
        MEDIA_PUBLIC_URL=f"http://127.0.0.1:{config.http_port}",
        MEDIA_WHIP_INGEST_URL=f"rtmp://127.0.0.1:{config.rtmp_port}/live",
        LIVE_THUMBNAIL_INTERVAL=1,
        MEDIA_LADDER=LADDER,
    )
    overrides.enable()
    nginx = start_nginx(config)
    try:
        yield Media(config)
    finally:
        relay.shutdown()
        nginx.terminate()
        nginx.wait(10)
        overrides.disable()


def _retrying(read):
    """A read that retries while the live server holds SQLite's shared-cache
    table lock (the in-memory test database is one cache for all threads)."""

    def attempt():
        try:
            return read()
        except OperationalError:
            return None

    return attempt


def _session_cookie(user):
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def test_browser_goes_live_by_whip_and_a_viewer_watches_then_stop_ends_the_show(
    whip_media, live_server, launch_chromium
):
    performer, _key = live_performer("webcammer")
    viewer = UserFactory(username="webwatcher")
    studio_cookie, viewer_cookie = _session_cookie(performer.user), _session_cookie(viewer)
    whip_answers = []
    browser = launch_chromium()  # after the test's own ORM work (see tests/browser.py)
    studio = browser.new_context()
    studio.add_cookies([{"name": "sessionid", "value": studio_cookie, "url": live_server.url}])
    page = studio.new_page()
    page.on("response", lambda r: whip_answers.append(r.status) if "/me/whip/" in r.url else None)
    page.goto(f"{live_server.url}/dashboard/stream/")
    page.locator("[data-golive-start]").click()
    # (Playwright delivers the page's events during its own calls.)
    page.locator("[data-golive-stop]").wait_for(state="visible", timeout=20000)
    show = wait_for(_retrying(lambda: live_show_of(performer)), timeout=30, what=f"show live {whip_answers}")
    assert whip_answers[0] == 201
    assert len(relay.sessions) == 1
    # Accepted by the same publish hook, through its checks, with the relay's credential.
    accepted = AuditEvent.objects.get(action="media.publish_accepted", target_id=str(performer.pk))
    assert accepted.details["show"] == show.pk
    assert wait_for(lambda: len(whip_media.playlist_segments("webcammer")) >= 2, timeout=30, what="HLS")

    room = browser.new_context()
    room.add_cookies([{"name": "sessionid", "value": viewer_cookie, "url": live_server.url}])
    watcher = room.new_page()
    watcher.goto(f"{live_server.url}/rooms/webcammer/")
    watcher.locator("video[data-player-video]").wait_for(state="visible", timeout=20000)
    wait_for(lambda: watcher.evaluate(PLAYHEAD) > 0.5, timeout=30, what="playback")
    first = watcher.evaluate(PLAYHEAD)
    wait_for(lambda: watcher.evaluate(PLAYHEAD) > first + 1.5, timeout=20, what="playback advancing")

    # Stop: DELETE the WHIP session → relay and ffmpeg gone → publish_done ends the show.
    page.locator("[data-golive-stop]").click()
    page.locator("[data-golive-start]").wait_for(state="visible", timeout=20000)
    ended = _retrying(lambda: Show.objects.get(pk=show.pk).status == Show.Status.ENDED)
    wait_for(ended, timeout=20, what="show ended")
    assert whip_answers[1:] == [200]
    assert relay.sessions == {}

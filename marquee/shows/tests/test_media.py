"""The real media server: nginx-rtmp rendered from our config on free ports,
hooks calling a live Django server, ffmpeg publishing.  One nginx for the
module; each test publishes for a few seconds only."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from django.test import override_settings
from django.utils import timezone

from marquee.audit.models import AuditEvent
from marquee.performers.services import regenerate_stream_key
from marquee.shows import thumbnails
from marquee.shows.ladder import parse_ladder
from marquee.shows.media_server import MediaConfig, nginx_command, write_config
from marquee.shows.models import Show
from marquee.shows.playback import playback_path, signed_playback_url
from marquee.shows.publisher import publish_command
from marquee.shows.tasks import media_watchdog
from tests.factories import PerformerFactory, ShowFactory, UserFactory, enable_totp

pytestmark = [
    pytest.mark.media,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("nginx") or not shutil.which("ffmpeg"), reason="needs nginx and ffmpeg"),
]

HOOK_SECRET = "media-test-hook-secret"
PLAYHEAD = "document.querySelector('video[data-player-video]').currentTime"
PLAYBACK_SECRET = "media-test-playback-secret"
LADDER = parse_ladder("source,240p")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout=15.0, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


class Media:
    def __init__(self, config: MediaConfig):
        self.config = config
        self.http = f"http://127.0.0.1:{config.http_port}"

    def rtmp_url(self, username, key):
        return f"rtmp://127.0.0.1:{self.config.rtmp_port}/live/{username}?key={key}"

    def publish(self, username, key) -> subprocess.Popen:
        command = publish_command(self.rtmp_url(username, key), size="320x180", fps=25)
        log = (self.config.var_dir / "logs" / f"ffmpeg-{username}.log").open("ab")
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)

    def playlist_segments(self, username, rung="_240p"):
        try:
            text = (self.config.hls_dir / f"{username}{rung}" / "index.m3u8").read_text()
        except FileNotFoundError:
            return []
        return [line for line in text.splitlines() if line.endswith(".ts")]


def media_config(var_dir: Path, live_server) -> MediaConfig:
    return MediaConfig(
        var_dir=var_dir,
        rtmp_bind="127.0.0.1",
        rtmp_port=free_port(),
        http_bind="127.0.0.1",
        http_port=free_port(),
        hook_base_url=f"http://127.0.0.1:{live_server.thread.port}",
        hook_secret=HOOK_SECRET,
        playback_secret=PLAYBACK_SECRET,
        update_interval=1,
        # The default shape (passthrough + a transcoded rung), kept small for 2 shared cores.
        ladder=LADDER,
    )


def start_nginx(config: MediaConfig) -> subprocess.Popen:
    """nginx in its own process group, so a test can kill master and worker at once."""
    write_config(config)
    nginx_log = (config.var_dir / "logs" / "nginx-stderr.txt").open("ab")
    nginx = subprocess.Popen(nginx_command(config), stdout=subprocess.DEVNULL, stderr=nginx_log, start_new_session=True)
    wait_for(lambda: _port_open(config.rtmp_port) and _port_open(config.http_port), what="nginx ports")
    return nginx


@pytest.fixture(scope="module")
def media(django_db_setup, live_server, tmp_path_factory):
    var_dir: Path = tmp_path_factory.mktemp("media")
    config = media_config(var_dir, live_server)
    overrides = override_settings(
        MEDIA_VAR_DIR=var_dir,
        MEDIA_HOOK_SECRET=HOOK_SECRET,
        MEDIA_PLAYBACK_SECRET=PLAYBACK_SECRET,
        MEDIA_PUBLIC_URL=f"http://127.0.0.1:{config.http_port}",
        MEDIA_CONTROL_URL=f"http://127.0.0.1:{config.http_port}",
        LIVE_THUMBNAIL_INTERVAL=1,
        MEDIA_LADDER=LADDER,
    )
    overrides.enable()
    try:
        nginx = start_nginx(config)
        yield Media(config)
    finally:
        nginx.terminate()
        nginx.wait(10)
        overrides.disable()


def _port_open(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def publisher(media):
    started = []

    def start(username, key):
        process = media.publish(username, key)
        started.append((username, process))
        return process

    yield start
    # Stop every publisher first: two in a row on one room share the username.
    for _, process in started:
        if process.poll() is None:
            process.terminate()
            process.wait(10)
    for username, _ in started:
        # Let the publish-done hook finish before the test database is flushed.
        wait_for(
            lambda u=username: not Show.objects.filter(performer__user__username=u, status=Show.Status.LIVE).exists(),
            what="publish done",
        )


def live_performer(username):
    performer = PerformerFactory(user=UserFactory(username=username))
    enable_totp(performer.user)
    return performer, regenerate_stream_key(performer=performer)


def live_show_of(performer):
    return Show.objects.filter(performer=performer, status=Show.Status.LIVE).first()


def test_publish_watch_with_signed_urls_then_end(media, publisher):
    performer, key = live_performer("streamer")
    viewer = UserFactory(username="watcher")
    stranger = UserFactory(username="stranger")
    ffmpeg = publisher("streamer", key)
    show = wait_for(lambda: live_show_of(performer), what="show live")
    assert wait_for(lambda: len(media.playlist_segments("streamer")) >= 2, what="HLS segments")

    # The transcoded rung trails the source; on a loaded machine by seconds.
    assert wait_for(lambda: len(media.playlist_segments("streamer", "_src")) >= 2, timeout=30, what="source segments")

    url, expires = signed_playback_url(viewer, show)
    base = url.rsplit("/", 1)[0]
    with httpx.Client(timeout=5) as http:
        master = wait_for(
            lambda: (r := http.get(url)).status_code == 200 and "240p" in r.text and r, timeout=30, what="master"
        )
        assert master.headers["content-type"] == "application/vnd.apple.mpegurl"
        variants = [line for line in master.text.splitlines() if line and not line.startswith("#")]
        assert variants == ["streamer_src/index.m3u8", "streamer_240p/index.m3u8"]
        assert "BANDWIDTH=400400,RESOLUTION=426x240" in master.text
        for variant in variants:  # relative: each inherits the token in the path
            playlist = http.get(f"{base}/{variant}")
            assert playlist.status_code == 200, variant
            segment = [line for line in playlist.text.splitlines() if line.endswith(".ts")][-1]
            assert "/" not in segment
            got = http.get(f"{base}/{variant.split('/')[0]}/{segment}")
            assert got.status_code == 200
            assert got.content[:1] == b"\x47"  # MPEG-TS sync byte
        rendition = f"streamer_240p/{segment}"

        def status(path):
            return http.get(media.http + path).status_code

        viewer_id = f"u{viewer.pk}"
        prefix = url[len(media.http) :].rsplit("/", 2)[0]  # /v/<viewer>/<show>/<expires>/<sig>
        sig = prefix.rsplit("/", 1)[1]
        refused = {
            "no token": f"/streamer/{segment}",
            "no token, hls path": "/hls/streamer/index.m3u8",
            "forged": f"/v/{viewer_id}/{show.pk}/{expires}/{'A' * len(sig)}/streamer/index.m3u8",
            "forged segment": f"/v/{viewer_id}/{show.pk}/{expires}/{'A' * len(sig)}/streamer/{segment}",
            "longer expiry": f"/v/{viewer_id}/{show.pk}/{expires + 3600}/{sig}/streamer/index.m3u8",
            "other viewer": f"/v/u{stranger.pk}/{show.pk}/{expires}/{sig}/streamer/index.m3u8",
            "other show": f"/v/{viewer_id}/{show.pk + 1}/{expires}/{sig}/streamer/index.m3u8",
            "other stream": f"{prefix}/otherstreamer/index.m3u8",
            "expired": playback_path(viewer=viewer_id, show=show.pk, stream="streamer", expires=int(time.time()) - 5),
            "expired segment": playback_path(
                viewer=viewer_id, show=show.pk, stream="streamer", expires=int(time.time()) - 5, file=rendition
            ),
            "unsigned rendition": f"/streamer_240p/{segment}",
            "unsigned rendition, hls path": "/hls/streamer_240p/index.m3u8",
            "rendition of another show": f"/v/{viewer_id}/{show.pk + 1}/{expires}/{sig}/streamer/{rendition}",
            "forged rendition": f"/v/{viewer_id}/{show.pk}/{expires}/{'A' * len(sig)}/streamer/{rendition}",
            "climbing out": f"{prefix}/streamer/../streamer_240p/index.m3u8",
        }
        assert {name: status(path) for name, path in refused.items()} == dict.fromkeys(refused, 403)
        # Signed for this show, but another stream's rendition is not in its folder.
        assert status(f"{prefix}/streamer/otherstreamer_240p/index.m3u8") == 404

    # A live preview appears after the first on_update (every second here).
    jpeg = wait_for(lambda: thumbnails.thumbnail_path("streamer").exists(), what="thumbnail")
    assert jpeg
    assert thumbnails.thumbnail_path("streamer").read_bytes()[:2] == b"\xff\xd8"

    ffmpeg.terminate()
    ffmpeg.wait(10)
    wait_for(lambda: Show.objects.get(pk=show.pk).status == Show.Status.ENDED, what="show ended")
    actions = set(AuditEvent.objects.filter(action__startswith="media.").values_list("action", flat=True))
    assert {"media.publish_accepted", "media.publish_done"} <= actions

    # The key never reaches HLS paths, playlists or the media server's logs.
    time.sleep(0.5)  # the RTMP access log is written when the session closes
    logs = "".join(p.read_text() for p in (media.config.var_dir / "logs").glob("*.log"))
    assert 'PUBLISH "live" "streamer"' in logs
    assert key not in logs
    for path in media.config.hls_dir.rglob("*"):
        assert key not in str(path)
        if path.suffix == ".m3u8":
            assert key not in path.read_text()


def test_urls_of_a_show_stop_when_the_room_moves_on_to_another_show(media, publisher):
    """A URL minted during a public show must not keep playing the paid show
    that follows it on the same room, even well before the URL expires."""
    performer, key = live_performer("switcher")
    viewer = UserFactory(username="freeloader")
    ffmpeg = publisher("switcher", key)
    public = wait_for(lambda: live_show_of(performer), what="public show live")
    assert wait_for(lambda: len(media.playlist_segments("switcher")) >= 2, what="HLS segments")
    old_url, expires = signed_playback_url(viewer, public)
    assert expires - time.time() > 60
    with httpx.Client(timeout=5) as http:
        assert http.get(old_url).status_code == 200
        ffmpeg.terminate()
        ffmpeg.wait(10)
        wait_for(lambda: Show.objects.get(pk=public.pk).status == Show.Status.ENDED, what="public show ended")
        # The segments are still on disk (hls_cleanup waits), the URL is dead already.
        assert (media.config.hls_dir / "switcher_240p" / "index.m3u8").exists()
        # Closed on commit of the publish-done hook, a moment after the status change is visible.
        wait_for(lambda: http.get(old_url).status_code == 404, timeout=5, what="old URL refused")

        ShowFactory(performer=performer, kind="premium", price_cents=999, scheduled_start=timezone.now())
        publisher("switcher", key)
        premium = wait_for(lambda: live_show_of(performer), what="premium show live")
        assert premium.pk != public.pk and premium.kind == "premium"
        assert wait_for(lambda: len(media.playlist_segments("switcher")) >= 2, what="premium HLS segments")
        assert http.get(old_url).status_code == 404
        paid_url, _ = signed_playback_url(performer.user, premium)
        assert wait_for(lambda: http.get(paid_url).status_code == 200, what="premium playlist")


def test_bad_key_goes_nowhere(media, publisher):
    performer, key = live_performer("badkey")
    ffmpeg = publisher("badkey", key[::-1])
    assert ffmpeg.wait(15) != 0
    assert live_show_of(performer) is None
    refused = AuditEvent.objects.get(action="media.publish_refused")
    assert refused.details["code"] == "bad_key"
    assert media.playlist_segments("badkey") == []


def test_regenerated_key_cuts_the_live_stream_on_next_update(media, publisher):
    performer, key = live_performer("rotator")
    ffmpeg = publisher("rotator", key)
    show = wait_for(lambda: live_show_of(performer), what="show live")
    regenerate_stream_key(performer=performer)
    # Cut by the next on_update (every second here): ffmpeg loses its connection.
    ffmpeg.wait(15)
    wait_for(lambda: Show.objects.get(pk=show.pk).status == Show.Status.ENDED, what="show ended")
    cut = AuditEvent.objects.get(action="media.stream_cut")
    assert cut.details["reason"] == "key_regenerated"


def test_watchdog_ends_the_show_of_a_media_server_killed_without_publish_done(media, live_server, tmp_path, settings):
    """A second nginx of its own, SIGKILLed (master and worker) mid-stream:
    no publish_done ever comes, its updates stop, the watchdog ends the show."""
    settings.MEDIA_STALE_SECONDS = 3  # updates every second here
    config = media_config(tmp_path, live_server)
    nginx = start_nginx(config)
    try:
        performer, key = live_performer("crasher")
        ffmpeg = Media(config).publish("crasher", key)
        show = wait_for(lambda: live_show_of(performer), what="show live")
        seen = wait_for(
            lambda: (s := Show.objects.get(pk=show.pk)).media_seen_at != s.started_at and s.media_seen_at,
            what="an on_update",
        )
        os.killpg(nginx.pid, signal.SIGKILL)
        nginx.wait(10)
        killed = time.monotonic()
        assert media_watchdog() == 0  # just killed: still inside the window
        wait_for(lambda: media_watchdog() == 1, timeout=20, interval=0.5, what="watchdog ending the show")
        took = time.monotonic() - killed
        show.refresh_from_db()
        assert show.status == Show.Status.ENDED
        assert show.media_seen_at >= seen
        # Within the setting (plus the last update's age and one poll).
        assert took <= settings.MEDIA_STALE_SECONDS + 1.5
        actions = list(AuditEvent.objects.filter(target_id=str(show.pk)).values_list("action", flat=True))
        assert "media.stream_silent" in actions
        assert not AuditEvent.objects.filter(action="media.publish_done").exists()
        ffmpeg.kill()
        ffmpeg.wait(10)
    finally:
        if nginx.poll() is None:
            os.killpg(nginx.pid, signal.SIGKILL)
            nginx.wait(10)


@pytest.mark.browser
@pytest.mark.chromium_args("--autoplay-policy=no-user-gesture-required")
def test_browser_paywall_then_plays_after_purchase(media, publisher, live_server, monkeypatch, launch_chromium):
    performer, key = live_performer("premiumstar")
    ShowFactory(performer=performer, kind="premium", price_cents=799, title="Premium", scheduled_start=timezone.now())
    viewer = UserFactory(username="fan")
    entitled = {"yes": False}
    monkeypatch.setattr("marquee.billing.selectors.has_show_ticket", lambda user, show: entitled["yes"])
    publisher("premiumstar", key)
    wait_for(lambda: live_show_of(performer), what="show live")
    wait_for(lambda: len(media.playlist_segments("premiumstar")) >= 2, what="HLS segments")

    from django.test import Client

    client = Client()
    client.force_login(viewer)
    session_cookie = client.cookies["sessionid"].value

    media_responses = []
    # After the ORM work above (see launch_chromium).
    context = launch_chromium().new_context()
    context.add_cookies([{"name": "sessionid", "value": session_cookie, "url": live_server.url}])
    page = context.new_page()
    page.on("response", lambda r: media_responses.append(r.status) if r.url.startswith(media.http) else None)
    page.goto(f"{live_server.url}/rooms/premiumstar/")
    paywall = page.locator("[data-paywall]")
    paywall.wait_for(state="visible")
    assert "This stream is premium. Purchase access to watch." in paywall.inner_text()
    assert page.locator("[data-paywall-button]").inner_text() == "Buy for $7.99"
    page.wait_for_timeout(1500)
    assert 200 not in media_responses

    # Payment lands: the page polls and plays without a reload.
    entitled["yes"] = True
    page.locator("video[data-player-video]").wait_for(state="visible", timeout=15000)
    # (Polled from here: the page's strict CSP forbids wait_for_function's eval.)
    wait_for(lambda: page.evaluate(PLAYHEAD) > 0.5, timeout=20, what="playback")
    first = page.evaluate(PLAYHEAD)
    page.wait_for_timeout(3000)
    # Keeps playing past the first playlist: it is reloaded, not stale.
    assert page.evaluate(PLAYHEAD) > first + 2
    assert paywall.is_hidden()
    assert 200 in media_responses


@pytest.mark.browser
@pytest.mark.chromium_args("--autoplay-policy=no-user-gesture-required")
def test_browser_offers_the_ladder_and_the_viewer_can_pin_a_quality(media, publisher, live_server, launch_chromium):
    from django.test import Client

    performer, key = live_performer("laddered")
    viewer = UserFactory(username="picky")
    publisher("laddered", key)
    wait_for(lambda: live_show_of(performer), what="show live")
    wait_for(lambda: len(media.playlist_segments("laddered")) >= 2, what="HLS segments")
    client = Client()
    client.force_login(viewer)
    segments = []
    # After the ORM work above (see launch_chromium).
    context = launch_chromium().new_context()
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    page.on("request", lambda r: segments.append(r.url.split("/")[-2]) if r.url.endswith(".ts") else None)
    errors = []
    page.on("response", lambda r: errors.append((r.status, r.url[-40:])) if r.status >= 400 else None)
    page.on("console", lambda m: errors.append(m.text[:200]))
    page.goto(f"{live_server.url}/rooms/laddered/")
    select = page.locator("[data-player-quality]")
    select.wait_for(state="visible", timeout=20000)
    assert select.locator("option").all_inner_texts() == ["Auto", "Source", "240p"]
    wait_for(lambda: page.evaluate(PLAYHEAD) > 0.5, timeout=20, what="playback")
    select.select_option(label="240p")
    pinned_at = len(segments)
    first = page.evaluate(PLAYHEAD)
    # Still plays after pinning, and nothing but the pinned rung is fetched.
    # (Open: in this test hls.js stops fetching after ~2 segments while the
    # paywall test plays on; the count of segments after pinning is not asserted.)
    wait_for(lambda: page.evaluate(PLAYHEAD) > first + 1, timeout=30, what=f"playback {segments} {errors}")
    assert set(segments[pinned_at + 1 :]) <= {"laddered_240p"}

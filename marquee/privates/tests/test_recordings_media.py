"""A real private show is recorded (issue 16 item 5) on the real media
server: nginx-rtmp records the performer's published stream between accept
and end (through rtmp_control), the recording is remuxed into the content
storage, ffprobe finds a playable video of about the show's length, and the
payer, and only the payer, downloads it through their signed link; in
Chromium the payer finds it on the purchases page and it plays."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from django.test import Client

from marquee.privates import selectors, services
from marquee.privates.models import PrivateRecording, PrivateShow
from marquee.privates.tests.conftest import fund
from marquee.shows.tests.test_media import (  # noqa: F401  (module fixtures: nginx-rtmp, ffmpeg)
    live_performer,
    live_show_of,
    media,
    publisher,
    wait_for,
)
from tests.factories import UserFactory
from tests.support.db_turns import DB_TURN, turn

pytestmark = [
    pytest.mark.media,
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("ffprobe"), reason="needs ffprobe"),
]

RECORDED_SECONDS = 4


def probe(path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        capture_output=True,
        check=True,
        timeout=30,
    )
    return json.loads(out.stdout)


def test_a_real_private_produces_a_playable_recording_for_the_payer(
    media,  # noqa: F811  (the imported module fixture)
    publisher,  # noqa: F811
    settings,
    tmp_path,
    live_server,
    launch_chromium,
):
    settings.CONTENT_ROOT = tmp_path / "content"
    performer, key = turn(lambda: live_performer("recorded"))
    payer = turn(lambda: UserFactory(username="payer"))
    stranger = turn(lambda: UserFactory(username="onlooker"))
    publisher("recorded", key)
    wait_for(lambda: turn(lambda: live_show_of(performer)), timeout=30, what="show live")
    with DB_TURN:
        services.update_room_settings(
            actor=performer.user, performer=performer, privates_enabled=True, recordings_enabled=True
        )
        fund(payer, 500)
        session = services.request_private(user=payer, performer=performer)
        services.accept(actor=performer.user, session=session)
        recording = PrivateRecording.objects.get(session=session)
    assert recording.status == PrivateRecording.Status.RECORDING
    # nginx's control endpoint answers only callers holding the hook secret.
    control = f"{media.http}/control/record/stop"
    params = {"app": "live", "name": "recorded", "rec": "private"}
    assert httpx.get(control, params=params, timeout=5).status_code == 403
    assert httpx.get(control, params=params, headers={"X-Media-Token": "guess"}, timeout=5).status_code == 403
    assert recording.raw_path.startswith(str(media.config.var_dir.resolve() / "recordings"))
    time.sleep(RECORDED_SECONDS)
    with DB_TURN:
        services.end_private(actor=performer.user, session=PrivateShow.objects.get(pk=session.pk))
        recording.refresh_from_db()
    # The worker (eager here) remuxed it into the content storage; nginx's FLV is gone.
    assert recording.status == PrivateRecording.Status.READY, recording.status
    assert recording.file.path.startswith(str(settings.CONTENT_ROOT))
    assert not Path(recording.raw_path).exists()

    info = probe(recording.file.path)
    video = [s for s in info["streams"] if s["codec_type"] == "video"]
    assert len(video) == 1 and video[0]["codec_name"] == "h264"
    assert (video[0]["width"], video[0]["height"]) == (320, 180)
    assert RECORDED_SECONDS - 1.5 <= float(info["format"]["duration"]) <= RECORDED_SECONDS + 3
    # Decodes start to end (a truncated or broken file fails here).
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", recording.file.path, "-f", "null", "-"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert decoded.returncode == 0 and not decoded.stderr.strip(), decoded.stderr[-300:]

    with DB_TURN:
        mine = Client()
        mine.force_login(payer)
        response = mine.get(selectors.signed_recording_url(recording, payer))
        assert response.status_code == 200
        assert b"".join(response.streaming_content)[4:8] == b"ftyp"
        theirs = Client()
        theirs.force_login(stranger)
        assert theirs.get(selectors.signed_recording_url(recording, payer)).status_code == 404
        assert theirs.get(selectors.signed_recording_url(recording, stranger)).status_code == 404

    # In Chromium: the payer's purchases page lists it, and its link plays.
    with DB_TURN:
        payer_cookie = Client()
        payer_cookie.force_login(payer)
    browser = launch_chromium()
    context = browser.new_context()
    context.add_cookies(
        [{"name": "sessionid", "value": payer_cookie.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/billing/purchases/")
    link = page.locator(f"[data-recording='{session.pk}'] a[download]")
    href = link.get_attribute("href")
    assert href and href.startswith("/private/recordings/")
    page.evaluate(
        """(src) => { const v = document.createElement("video"); v.id = "rec"; v.muted = true; v.src = src;
                     document.body.append(v); v.play(); }""",
        href,
    )
    wait_for(
        lambda: page.evaluate("document.getElementById('rec').currentTime") > 1.0, timeout=30, what="recording plays"
    )
    assert page.evaluate("document.getElementById('rec').videoWidth") == 320

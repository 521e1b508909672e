"""Recordings of private shows (issue 16 item 5): recorded only when the room
allows it, processed into the content storage, fetched by the payer (and
staff) only through a link signed for them, deleted after the retention."""

from __future__ import annotations

import datetime
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from django.core import signing
from django.urls import reverse

from marquee.audit.models import AuditEvent
from marquee.privates import selectors, services, tasks
from marquee.privates.models import PrivateRecording, PrivateShow
from marquee.privates.services import PrivateError
from marquee.privates.tests.conftest import at, fund
from marquee.shows import recorder
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not shutil.which("ffmpeg"), reason="needs ffmpeg"),
]
Status = PrivateRecording.Status


@pytest.fixture
def content_root(settings, tmp_path):
    settings.CONTENT_ROOT = tmp_path / "content"
    settings.PRIVATE_RECORDING_RETENTION_DAYS = 7
    return settings.CONTENT_ROOT


@pytest.fixture
def nginx_recorder(monkeypatch, tmp_path):
    """Stands in for nginx's recorder: ``start`` "records" a real 2 s FLV (as
    nginx-rtmp writes one) and answers its path; every call is logged."""
    calls = []
    raw_dir = tmp_path / "recordings"
    raw_dir.mkdir()

    def start(stream):
        calls.append(("start", stream))
        path = raw_dir / f"{stream}-{len(calls)}.flv"
        subprocess.run(
            [
                *("ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x36:rate=10:duration=2"),
                *("-c:v", "libx264", "-pix_fmt", "yuv420p", "-f", "flv", str(path)),
            ],
            check=True,
        )
        return str(path)

    def stop(stream):
        calls.append(("stop", stream))
        return None

    monkeypatch.setattr(recorder, "start", start)
    monkeypatch.setattr(recorder, "stop", stop)
    return calls


def allow_recordings(performer, allowed=True):
    services.update_room_settings(actor=performer.user, performer=performer, recordings_enabled=allowed)


def run_private(room, viewer, callbacks, *, end_at=200):
    fund(viewer, 500)
    session = services.request_private(user=viewer, performer=room, now=at(0))
    with callbacks(execute=True):
        services.accept(actor=room.user, session=session, now=at(5))
    with callbacks(execute=True):
        services.end_private(actor=room.user, session=PrivateShow.objects.get(pk=session.pk), now=at(end_at))
    return PrivateShow.objects.get(pk=session.pk)


@pytest.fixture
def recorded(room, viewer, content_root, nginx_recorder, django_capture_on_commit_callbacks):
    allow_recordings(room)
    session = run_private(room, viewer, django_capture_on_commit_callbacks)
    return session.recording


def test_a_room_that_does_not_allow_it_is_not_recorded(
    room, viewer, content_root, nginx_recorder, django_capture_on_commit_callbacks
):
    session = run_private(room, viewer, django_capture_on_commit_callbacks)
    assert not PrivateRecording.objects.filter(session=session).exists()
    assert nginx_recorder == []


def test_a_private_is_recorded_from_start_to_end_into_the_content_storage(recorded, room, nginx_recorder):
    assert nginx_recorder == [("start", room.username), ("stop", room.username)]
    assert recorded.status == Status.READY
    path = recorded.file.path
    assert path.startswith(str(recorded.file.storage.location))
    assert "/recordings/" in path
    with open(path, "rb") as handle:
        assert handle.read(12)[4:8] == b"ftyp"  # an MP4
    assert recorded.size_bytes > 0
    # The raw FLV nginx wrote is gone once remuxed.
    assert not Path(recorded.raw_path).exists()
    retention = datetime.timedelta(days=7)
    assert recorded.expires_at - recorded.ended_at == retention


def test_the_payer_finds_it_in_purchases_and_downloads_it(client, recorded, viewer):
    client.force_login(viewer)
    page = client.get(reverse("purchase_history"))
    assert page.status_code == 200
    assert "Private show recordings" in page.text
    links = [line for line in page.text.splitlines() if "/private/recordings/" in line]
    assert len(links) == 1
    href = links[0].split('href="')[1].split('"')[0]
    response = client.get(href)
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    body = b"".join(response.streaming_content)
    assert body == Path(recorded.file.path).read_bytes()


def _state():
    return (
        list(PrivateRecording.objects.order_by("pk").values_list("pk", "status", "file", "expires_at")),
        AuditEvent.objects.count(),
    )


def test_a_stranger_is_refused_and_nothing_changes(client, recorded, viewer):
    stranger = UserFactory(username="stranger")
    payer_link = selectors.signed_recording_url(recorded, viewer)
    own_link = selectors.signed_recording_url(recorded, stranger)  # a link minted for them, still no entitlement
    client.force_login(stranger)  # (signing in writes its own audit row)
    before = _state()
    assert client.get(payer_link).status_code == 404
    assert client.get(own_link).status_code == 404
    assert "/private/recordings/" not in client.get(reverse("purchase_history")).text
    assert _state() == before
    client.logout()
    assert client.get(payer_link).status_code == 302  # to the login page
    with open(recorded.file.path, "rb") as handle:
        assert handle.read(12)[4:8] == b"ftyp"


def test_the_performer_is_not_the_buyer_but_staff_may_fetch(client, recorded, room, staff):
    client.force_login(room.user)
    assert client.get(selectors.signed_recording_url(recorded, room.user)).status_code == 404
    client.force_login(staff)
    assert client.get(selectors.signed_recording_url(recorded, staff)).status_code == 200


def test_a_forged_or_expired_link_opens_nothing(client, recorded, viewer, settings, monkeypatch):
    client.force_login(viewer)
    link = selectors.signed_recording_url(recorded, viewer)
    assert client.get(link).status_code == 200
    assert client.get(link[:-4] + "abc/").status_code == 404
    settings.CONTENT_URL_MAX_AGE = 30
    # A link minted 31 s ago.
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(int(time.time()) - 31))
    old = selectors.signed_recording_url(recorded, viewer)
    assert client.get(old).status_code == 404


def test_expired_recordings_are_deleted_from_disk_and_list(
    client, recorded, content_root, viewer, django_capture_on_commit_callbacks
):
    path = recorded.file.path
    assert path.startswith(str(content_root))
    kept = PrivateRecording.objects.get(pk=recorded.pk)
    tasks.delete_expired_recordings.delay()  # not yet
    assert PrivateRecording.objects.filter(pk=kept.pk).exists()
    assert services.recordings.delete_expired(now=kept.expires_at - datetime.timedelta(seconds=1)) == 0
    link = selectors.signed_recording_url(kept, viewer)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.recordings.delete_expired(now=kept.expires_at) == 1

    assert not PrivateRecording.objects.filter(pk=kept.pk).exists()
    assert not Path(path).exists()
    assert AuditEvent.objects.filter(action="privates.recording_deleted").count() == 1
    client.force_login(viewer)
    assert "/private/recordings/" not in client.get(reverse("purchase_history")).text
    assert client.get(link).status_code == 404
    assert services.recordings.delete_expired(now=kept.expires_at) == 0  # idempotent


def test_the_list_hides_a_recording_past_its_retention_before_the_task_runs(recorded, viewer):
    assert list(selectors.recordings_for(viewer)) == [recorded]
    assert list(selectors.recordings_for(viewer, now=recorded.expires_at)) == []


def test_a_media_server_that_cannot_record_fails_the_recording_not_the_show(
    room, viewer, content_root, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(recorder, "start", lambda stream: None)
    monkeypatch.setattr(recorder, "stop", lambda stream: None)
    allow_recordings(room)
    session = run_private(room, viewer, django_capture_on_commit_callbacks)
    assert session.status == PrivateShow.Status.ENDED
    assert session.recording.status == Status.FAILED
    assert list(selectors.recordings_for(viewer)) == []


def test_the_setting_is_validated_in_the_one_place(room, client):
    with pytest.raises(PrivateError) as refused:
        services.update_room_settings(actor=room.user, performer=room, recordings_enabled="yes")
    assert refused.value.code == "bad_field"
    assert selectors.room_settings(room).recordings_enabled is False
    client.force_login(room.user)
    response = client.patch(
        reverse("api_dashboard_private_settings"), {"recordings_enabled": True}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["recordings_enabled"] is True
    assert selectors.room_settings(room).recordings_enabled is True
    # The dashboard form posts the same setting through the same service.
    form = client.get(reverse("dashboard_privates")).text
    assert 'name="recordings_enabled"' in form and "never cam2cam" in form
    fields = {"rate_tokens": 10, "minimum_minutes": 3, "exclusive_rate_tokens": 20, "spy_rate_tokens": 4}
    assert client.post(reverse("dashboard_privates"), {"form": "settings", **fields}).status_code == 302
    assert selectors.room_settings(room).recordings_enabled is False

"""The per-show link nginx serves playback from (no nginx needed here; the
real thing is in test_media.py)."""

from __future__ import annotations

import os

import pytest
from django.utils import timezone

from marquee.shows import playback, services
from marquee.shows.models import Show
from tests.factories import ShowFactory


@pytest.fixture(autouse=True)
def _var(settings, tmp_path):
    settings.MEDIA_VAR_DIR = tmp_path
    (tmp_path / "hls" / "performer").mkdir(parents=True)
    return tmp_path


def test_a_new_show_on_the_stream_replaces_the_old_link_and_the_end_removes_it(_var):
    playback.open_show_media(7, "performer")
    assert (_var / "live" / "7" / ".").resolve() == (_var / "hls" / "performer").resolve()
    playback.open_show_media(8, "performer")
    assert not os.path.lexists(_var / "live" / "7")
    assert (_var / "live" / "8").is_symlink()
    playback.close_show_media(8)
    assert not os.path.lexists(_var / "live" / "8")
    playback.close_show_media(8)  # idempotent


@pytest.mark.django_db
def test_publish_done_closes_the_shows_playback(_var, performer, django_capture_on_commit_callbacks):
    show = ShowFactory(performer=performer, status=Show.Status.LIVE, started_at=timezone.now(), media_session="c1")
    playback.open_show_media(show.pk, "performer")
    with django_capture_on_commit_callbacks(execute=True):
        services.end_publish(username="performer", session="c1")
    assert not os.path.lexists(_var / "live" / str(show.pk))


def test_a_broken_media_folder_is_logged_not_raised(settings, tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    settings.MEDIA_VAR_DIR = blocker
    playback.open_show_media(1, "performer")
    assert "could not open playback for show 1" in caplog.text

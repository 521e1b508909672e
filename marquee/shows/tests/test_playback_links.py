"""The per-show link nginx serves playback from (no nginx needed here; the
real thing is in test_media.py)."""

from __future__ import annotations

import os

import pytest
from django.utils import timezone

from marquee.shows import playback, services
from marquee.shows.ladder import parse_ladder
from marquee.shows.models import Show
from tests.factories import ShowFactory


@pytest.fixture(autouse=True)
def _var(settings, tmp_path):
    settings.MEDIA_VAR_DIR = tmp_path
    settings.MEDIA_LADDER = parse_ladder("source,480p,240p")
    for name in ("performer_src", "performer_480p", "performer_240p", "other_src"):
        (tmp_path / "hls" / name).mkdir(parents=True)
    (tmp_path / "hls" / "performer.m3u8").write_text("#EXTM3U\n")
    return tmp_path


def test_a_new_show_on_the_stream_replaces_the_old_folder_and_the_end_removes_it(_var):
    playback.open_show_media(7, "performer")
    show = _var / "live" / "7"
    assert sorted(p.name for p in show.iterdir()) == [
        "index.m3u8",
        "performer_240p",
        "performer_480p",
        "performer_src",
    ]
    assert (show / "index.m3u8").resolve() == (_var / "hls" / "performer.m3u8").resolve()
    for rung in ("src", "480p", "240p"):
        assert (show / f"performer_{rung}").resolve() == (_var / "hls" / f"performer_{rung}").resolve()
    playback.open_show_media(9, "other")
    playback.open_show_media(8, "performer")
    assert not os.path.lexists(_var / "live" / "7")
    assert (_var / "live" / "8" / "index.m3u8").is_symlink()
    assert (_var / "live" / "9" / "index.m3u8").is_symlink()  # another stream's show stays
    playback.close_show_media(8)
    assert not os.path.lexists(_var / "live" / "8")
    # Links only: what they pointed at is still there.
    assert (_var / "hls" / "performer_src").is_dir() and (_var / "hls" / "performer.m3u8").exists()
    playback.close_show_media(8)  # idempotent


def test_thumbnails_come_from_the_lowest_rung(_var):
    from marquee.shows import thumbnails

    for name in ("performer_src", "performer_240p"):
        (_var / "hls" / name / "index.m3u8").write_text("#EXTM3U\n#EXTINF:1.0,\n3.ts\n")
    assert thumbnails.newest_segment("performer") == _var / "hls" / "performer_240p" / "3.ts"


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

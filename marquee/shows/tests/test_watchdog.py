"""The media watchdog: a media server that dies sends no publish_done; its
on_update calls stop, and the worker ends its shows (fake clock here; the
real nginx kill is in test_media)."""

from __future__ import annotations

import pytest

from marquee.audit.models import AuditEvent
from marquee.ledger import selectors as ledger
from marquee.privates import services as privates
from marquee.privates.models import PrivateShow
from marquee.privates.tests.conftest import at, fund, private_settings, room  # noqa: F401 (fixtures)
from marquee.shows import playback
from marquee.shows.models import Show
from marquee.shows.services import check_publish, end_silent_shows
from marquee.shows.tasks import media_watchdog
from tests.factories import PerformerFactory, ShowFactory, enable_totp

Status, Reason = PrivateShow.Status, PrivateShow.EndReason


@pytest.fixture
def watchdog_settings(settings):
    settings.MEDIA_UPDATE_INTERVAL = 30
    settings.MEDIA_STALE_SECONDS = 75
    settings.PRIVATE_BILLING_SECONDS = 60
    settings.PRIVATE_STREAM_DROP_GRACE_SECONDS = 30
    return settings


def live_show(performer, *, seen_at):
    return ShowFactory(
        performer=performer,
        status=Show.Status.LIVE,
        started_at=at(-600),
        scheduled_start=None,
        media_session="42",
        media_seen_at=seen_at,
    )


def test_a_show_heard_from_within_the_window_stays_live(db, watchdog_settings):
    show = live_show(PerformerFactory(), seen_at=at(0))
    assert end_silent_shows(now=at(75)) == []
    show.refresh_from_db()
    assert show.status == Show.Status.LIVE and show.ended_at is None
    assert not AuditEvent.objects.filter(action="media.stream_silent").exists()


def test_a_silent_show_ends_with_an_audit_row_and_its_links_closed(
    db, watchdog_settings, django_capture_on_commit_callbacks, monkeypatch
):
    closed = []
    monkeypatch.setattr(playback, "close_show_media", closed.append)
    silent = live_show(PerformerFactory(), seen_at=at(0))
    fresh = live_show(PerformerFactory(), seen_at=at(60))
    with django_capture_on_commit_callbacks(execute=True):
        ended = end_silent_shows(now=at(76))
    assert [show.pk for show in ended] == [silent.pk]
    silent.refresh_from_db()
    fresh.refresh_from_db()
    assert (silent.status, silent.ended_at) == (Show.Status.ENDED, at(76))
    assert fresh.status == Show.Status.LIVE
    assert closed == [silent.pk]
    audit = AuditEvent.objects.get(action="media.stream_silent")
    assert audit.target_id == str(silent.pk)
    # Once is enough: a second tick finds nothing.
    assert end_silent_shows(now=at(77)) == []
    assert AuditEvent.objects.filter(action="media.stream_silent", target_id=str(silent.pk)).count() == 1


def test_the_window_follows_the_setting(db, watchdog_settings):
    show = live_show(PerformerFactory(), seen_at=at(0))
    watchdog_settings.MEDIA_STALE_SECONDS = 200
    assert end_silent_shows(now=at(150)) == []
    watchdog_settings.MEDIA_STALE_SECONDS = 100
    assert [s.pk for s in end_silent_shows(now=at(150))] == [show.pk]


def test_a_late_update_after_the_watchdog_cuts_the_stream(db, watchdog_settings):
    performer = PerformerFactory()
    enable_totp(performer.user)
    live_show(performer, seen_at=at(0))
    end_silent_shows(now=at(100))
    decision = check_publish(username=performer.username, session="42", seconds_live=700)
    assert not decision and decision.code == "not_live"


def test_watchdog_drops_the_running_private_show_which_ends_as_stream_dropped(
    room,  # noqa: F811
    viewer,
    watchdog_settings,
    django_capture_on_commit_callbacks,
):
    fund(viewer, 1000)
    Show.objects.filter(performer=room).update(media_session="42", media_seen_at=at(0))
    session = privates.request_private(user=viewer, performer=room, now=at(0))
    privates.accept(actor=room.user, session=session, now=at(0))
    Show.objects.filter(performer=room).update(media_seen_at=at(100))  # last on_update
    assert media_watchdog(now=at(170)) == 0  # 70 s silent: within the window
    # privates hears of it through the show.stream_lost event, after commit.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert media_watchdog(now=at(180)) == 1
    assert callbacks
    session.refresh_from_db()
    # No period begun after the last sign of life is billed.
    assert session.stream_dropped_at == at(100)
    privates.bill_due_periods(now=at(181))
    session.refresh_from_db()
    assert (session.status, session.end_reason, session.periods_charged) == (Status.ENDED, Reason.STREAM_DROPPED, 2)
    assert session.ended_at == at(100)
    assert ledger.wallet_balance(viewer) == 980 and ledger.held_tokens(viewer) == 0

"""What a private show changes on the other surfaces, all asking ``access``:
playback (per-session folder and URL), the room API, chat rights and the
real-time events."""

from __future__ import annotations

import os

import pytest

from marquee.access import selectors as access
from marquee.lib.geo import Location
from marquee.privates import services
from marquee.privates.tests.conftest import fund
from marquee.shows import playback
from marquee.shows.ladder import parse_ladder
from marquee.shows.models import Show

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path, room):
    settings.MEDIA_VAR_DIR = tmp_path
    settings.MEDIA_LADDER = parse_ladder("source")
    (tmp_path / "hls" / "performer_src").mkdir(parents=True)
    (tmp_path / "hls" / "performer.m3u8").write_text("#EXTM3U\n")
    show = Show.objects.get(performer=room, status=Show.Status.LIVE)
    playback.open_show_media(show.pk, "performer")
    return tmp_path / "live", show


def viewer_of(user):
    return access.Viewer(user, Location(country="US"), declared_adult=True)


def start_private(room, payer, capture):
    fund(payer, 100)
    with capture(execute=True):
        session = services.request_private(user=payer, performer=room)
        services.accept(actor=room.user, session=session)
    return session


def test_the_private_replaces_the_public_folder_and_the_end_restores_it(
    media, room, viewer, django_capture_on_commit_callbacks
):
    live, show = media
    assert (live / str(show.pk) / "index.m3u8").is_symlink()
    session = start_private(room, viewer, django_capture_on_commit_callbacks)
    # Every public URL stops at once: its folder is gone; the session's serves the same stream.
    assert not os.path.lexists(live / str(show.pk))
    assert (live / f"p{session.pk}" / "index.m3u8").resolve() == (live.parent / "hls" / "performer.m3u8").resolve()
    with django_capture_on_commit_callbacks(execute=True):
        services.end_private(actor=viewer, session=session)
    assert not os.path.lexists(live / f"p{session.pk}")
    assert (live / str(show.pk) / "index.m3u8").is_symlink()


def test_room_state_plays_the_session_for_payer_and_spy_only(
    media, room, viewer, outsider, django_capture_on_commit_callbacks
):
    _, show = media
    before = access.room_state(viewer_of(outsider), room)
    assert f"/{show.pk}/" in before["playback_url"] and before["private"] is None
    session = start_private(room, viewer, django_capture_on_commit_callbacks)
    payer = access.room_state(viewer_of(viewer), room)
    assert f"/p{session.pk}/" in payer["playback_url"]
    assert payer["private"]["is_payer"] and payer["private"]["session_id"] == session.pk
    other = access.room_state(viewer_of(outsider), room)
    assert other["playback_url"] is None and other["denied"]["code"] == "private_show"
    assert other["private"]["spies_allowed"] is True and other["private"]["watching"] is False
    fund(outsider, 20)
    spy = services.join_spy(user=outsider, performer=room)
    spying = access.room_state(viewer_of(outsider), room)
    assert f"/p{session.pk}/" in spying["playback_url"]
    assert spying["private"]["session_id"] == spy.pk and not spying["private"]["is_payer"]
    performer_view = access.room_state(viewer_of(room.user), room)
    assert f"/p{session.pk}/" in performer_view["playback_url"]


def test_the_signed_session_url_is_what_nginx_checks():
    path = playback.playback_path(viewer="u3", show="p12", stream="performer", expires=1000)
    sig = playback.playback_signature(viewer="u3", show="p12", stream="performer", expires=1000)
    assert path == f"/v/u3/p12/1000/{sig}/performer/index.m3u8"
    # The public URL of show 12 signs a different string: one cannot stand for the other.
    assert sig != playback.playback_signature(viewer="u3", show=12, stream="performer", expires=1000)


def test_room_api_shows_the_private_state(client, media, room, viewer, outsider, django_capture_on_commit_callbacks):
    session = start_private(room, viewer, django_capture_on_commit_callbacks)
    client.force_login(outsider)
    state = client.get("/api/v1/rooms/performer/").json()
    assert state["private"]["id"] == session.pk and state["playback_url"] is None
    assert state["denied"]["message"] == "In a private show."


def test_chat_is_the_payer_and_performer_during_a_private(room, viewer, outsider, django_capture_on_commit_callbacks):
    def can_post(user):
        answer = access.chat(viewer=user, username="performer", location=Location(country="US"), age_gate_passed=True)
        assert answer.decision  # everyone stays in the room (public events; the chat again when it ends)
        return answer.can_post

    assert can_post(outsider) and can_post(viewer)
    session = start_private(room, viewer, django_capture_on_commit_callbacks)
    assert can_post(viewer) and can_post(room.user)
    assert not can_post(outsider)
    fund(outsider, 20)
    services.join_spy(user=outsider, performer=room)
    assert not can_post(outsider)  # spies read only
    services.end_private(actor=room.user, session=session)
    assert can_post(outsider)


def test_events_reach_the_performer_the_room_and_the_payer(
    room, viewer, monkeypatch, django_capture_on_commit_callbacks
):
    from marquee.lib import realtime

    room_events, user_events, mod_events = [], [], []
    monkeypatch.setattr(realtime, "publish_room_event", lambda r, e: room_events.append((r, e)) or 1)
    monkeypatch.setattr(realtime, "publish_user_event", lambda u, e: user_events.append((u, e)))
    monkeypatch.setattr(realtime, "publish_moderator_event", lambda r, e: mod_events.append((r, e)))
    fund(viewer, 100)
    with django_capture_on_commit_callbacks(execute=True):
        session = services.request_private(user=viewer, performer=room)
    [(to, requested)] = user_events
    assert to == room.user_id and requested["room"] == "performer"
    assert requested["event"]["type"] == "private_requested"
    assert requested["event"]["viewer"] == "viewer" and requested["event"]["member_since"]
    assert room_events == []  # the room hears nothing of a request
    user_events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.accept(actor=room.user, session=session)
    assert [e["type"] for _, e in room_events] == ["private_started"]
    charges = [(u, e["event"]) for u, e in user_events if e["event"]["type"] == "charge"]
    assert charges == [
        (
            viewer.pk,
            {
                "type": "charge",
                "private_id": session.pk,
                "period": 1,
                "tokens": 10,
                "balance_tokens": 90,
                "available_tokens": 90 - 20,  # the hold keeps the rest of the 3-minute minimum
                "warning": False,
            },
        )
    ]
    assert ("performer", {"type": "recheck_rights"}) in mod_events
    room_events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.end_private(actor=room.user, session=session)
    assert [(e["type"], e["reason"]) for _, e in room_events] == [("private_ended", "performer")]


def test_a_ban_mid_show_ends_it_and_voids_what_was_not_delivered(room, viewer, django_capture_on_commit_callbacks):
    from marquee.chat import bans as chat
    from marquee.ledger import selectors as ledger

    session = start_private(room, viewer, django_capture_on_commit_callbacks)
    assert ledger.held_tokens(viewer) == 20  # minimum 3 × 10, one period posted
    with django_capture_on_commit_callbacks(execute=True):
        chat.ban_user(actor=room.user, performer=room, target=viewer)
    session.refresh_from_db()
    assert (session.status, session.end_reason, session.periods_charged) == ("ended", "blocked", 1)
    assert (ledger.wallet_balance(viewer), ledger.held_tokens(viewer)) == (90, 0)


def test_no_frames_of_a_private_reach_others_or_the_public_card(
    room, viewer, outsider, django_capture_on_commit_callbacks
):
    show = Show.objects.get(performer=room, status=Show.Status.LIVE)
    assert access.public_frames(show) and access.live_thumbnail_allowed(viewer_of(outsider), room)
    start_private(room, viewer, django_capture_on_commit_callbacks)
    assert not access.public_frames(show)
    refused = access.live_thumbnail_allowed(viewer_of(outsider), room)
    assert not refused and refused.code == "private_show"
    assert access.live_thumbnail_allowed(viewer_of(viewer), room)


def test_a_stream_back_as_a_new_show_does_not_reopen_the_public_folder_during_a_private(
    media, room, viewer, django_capture_on_commit_callbacks
):
    from marquee.lib import domain_events

    live, show = media
    session = start_private(room, viewer, django_capture_on_commit_callbacks)
    # The publish hook of the reconnected stream: its folder opens, then the event.
    with django_capture_on_commit_callbacks(execute=True):
        from django.db import transaction

        transaction.on_commit(lambda: playback.open_show_media(show.pk + 1, "performer"))
        domain_events.send("show.went_live", performer_id=room.pk, show_id=show.pk + 1)
    assert not os.path.lexists(live / str(show.pk + 1))
    assert (live / f"p{session.pk}" / "index.m3u8").is_symlink()


def test_a_running_group_show_takes_the_room_private_like_a_private(
    media, room, viewer, outsider, monkeypatch, django_capture_on_commit_callbacks
):
    """Issue 13: when the goal is met the room goes private for everyone not
    in the group show (playback, frames, chat), and public again at its end."""
    from marquee.lib import realtime
    from tests.factories import UserFactory

    room_events, mod_events = [], []
    monkeypatch.setattr(realtime, "publish_room_event", lambda r, e: room_events.append(e) or 1)
    monkeypatch.setattr(realtime, "publish_moderator_event", lambda r, e: mod_events.append(e))
    live, show = media
    second = UserFactory(username="second")
    fund(viewer, 100)
    fund(second, 100)
    with django_capture_on_commit_callbacks(execute=True):
        group = services.announce_group_show(
            actor=room.user, performer=room, rate_tokens=5, goal_viewers=2, window_minutes=10
        )
        first = services.join_group_show(user=viewer, group=group)
    # Announced, not running: the room is public.
    assert f"/{show.pk}/" in access.room_state(viewer_of(outsider), room)["playback_url"]
    with django_capture_on_commit_callbacks(execute=True):
        services.join_group_show(user=second, group=group)
    assert not os.path.lexists(live / str(show.pk))
    assert (live / f"p{first.pk}" / "index.m3u8").is_symlink()
    other = access.room_state(viewer_of(outsider), room)
    assert other["playback_url"] is None and other["denied"]["code"] == "private_show"
    assert other["private"] == {
        "id": group.pk,
        "kind": "group",
        "spies_allowed": False,
        "session_id": None,
        "watching": False,
        "is_payer": False,
        "webrtc_url": None,
        "cam2cam_url": None,
    }
    for user in (viewer, second, room.user):
        state = access.room_state(viewer_of(user), room)
        assert f"/p{first.pk}/" in state["playback_url"]
        # A group show stays on HLS: WebRTC is for a private's payer and the performer.
        assert state["private"]["webrtc_url"] is None and state["private"]["cam2cam_url"] is None
    assert not access.live_thumbnail_allowed(viewer_of(outsider), room)
    assert not access.public_frames(show)
    assert {"type": "private_started", "private_id": group.pk, "kind": "group"} in room_events
    assert {"type": "recheck_rights"} in mod_events

    def chat_of(user):
        return access.chat(viewer=user, username="performer", location=Location(country="US"), age_gate_passed=True)

    assert (chat_of(second).can_post, chat_of(second).audience) == (True, f"g{group.pk}")
    assert (chat_of(room.user).can_post, chat_of(room.user).audience) == (True, f"g{group.pk}")
    assert (chat_of(outsider).can_post, chat_of(outsider).audience) == (False, None)
    assert access.chat_post_audience(outsider, room) is None
    with django_capture_on_commit_callbacks(execute=True):
        services.end_group_show(actor=room.user, group=group)
    assert not os.path.lexists(live / f"p{first.pk}")
    assert (live / str(show.pk) / "index.m3u8").is_symlink()
    assert f"/{show.pk}/" in access.room_state(viewer_of(outsider), room)["playback_url"]
    assert chat_of(outsider).can_post and chat_of(outsider).audience is None
    assert room_events[-1]["type"] == "private_ended"

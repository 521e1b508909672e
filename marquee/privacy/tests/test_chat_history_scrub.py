"""At closure the rooms' recent history (Redis with REDIS_URL, memory
otherwise) stops naming the person: a join or resume replays "deleted user"."""

from __future__ import annotations

import datetime
import json

import pytest

from marquee.chat import protocol
from marquee.lib import realtime
from marquee.privacy import services
from tests.factories import PerformerFactory, UserFactory


@pytest.fixture(autouse=True)
def _clean_history():
    realtime.backend().reset()
    yield
    realtime.backend().reset()


def _events(room):
    return [(seq, json.loads(raw)) for seq, raw in realtime.recent_events(room)[1]]


def test_closure_scrubs_the_name_from_every_room_history(db, django_capture_on_commit_callbacks):
    leaving, staying = UserFactory(username="vivian-quill"), UserFactory(username="otto-stays")
    rooms = [PerformerFactory().user.username, PerformerFactory().user.username]
    now = datetime.datetime(2026, 11, 29, 12, tzinfo=datetime.UTC)
    for room in rooms:
        realtime.publish_room_event(
            room, protocol.message_event(username="vivian-quill", role="viewer", text="hi", created_at=now)
        )
        realtime.publish_room_event(
            room, protocol.message_event(username="otto-stays", role="viewer", text="yo", created_at=now)
        )
        realtime.publish_room_event(room, {"type": "tip", "from": "vivian-quill", "tokens": 5})
    realtime.publish_room_event(
        rooms[0], {"type": "moderation", "action": "unban", "user": "vivian-quill", "by": "otto-stays"}
    )
    before = {room: _events(room) for room in rooms}
    assert "vivian-quill" in json.dumps(before)

    with django_capture_on_commit_callbacks(execute=True):
        services.close_account(user=leaving)

    for room in rooms:
        after = _events(room)
        assert "vivian-quill" not in json.dumps(after)
        # Same ids, same order, nothing lost or duplicated; only the name changed.
        assert [seq for seq, _ in after] == [seq for seq, _ in before[room]]
        expected = json.loads(json.dumps(before[room]).replace('"vivian-quill"', '"deleted user"'))
        assert [list(pair) for pair in after] == expected
    assert _events(rooms[0])[1][1]["user"] == "otto-stays"
    assert staying.username == "otto-stays"
    # The next event continues the sequence.
    assert realtime.publish_room_event(rooms[0], {"type": "tip", "from": "otto-stays", "tokens": 1}) == 5

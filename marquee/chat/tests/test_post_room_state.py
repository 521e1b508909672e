"""A post on the socket takes the room's private state from the hub when it
knows it (issue 14 review: no query for it per post), and the hub never keeps
a state read before a private event it heard meanwhile."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marquee.chat import consumers
from marquee.chat.hub import UNKNOWN, Hub, RoomState
from marquee.lib.realtime import with_id


def _poster(performer):
    return SimpleNamespace(user=performer.user, performer=performer, role="performer", is_moderator=True)


def _privates_queries(queries) -> int:
    return sum(1 for q in queries if '"privates_' in q["sql"])


@pytest.mark.django_db
def test_a_post_with_the_room_state_known_asks_nothing_about_privates(performer):
    conn = _poster(performer)
    with CaptureQueriesContext(connection) as asked:
        result, private = consumers._post_now(conn, "hello there", UNKNOWN)
    assert result.status == "sent" and private is None
    with CaptureQueriesContext(connection) as kept:
        result, private = consumers._post_now(conn, "hello again", private)
    assert result.status == "sent" and private is None
    assert _privates_queries(asked.captured_queries) == 2  # the active private, the running group show
    assert _privates_queries(kept.captured_queries) == 0
    assert len(kept.captured_queries) == len(asked.captured_queries) - 2


def test_a_private_event_heard_while_a_post_asked_is_not_overwritten_by_its_answer(settings):
    settings.CHAT_BATCH_WINDOW_MS = 10_000  # nothing flushes: only the state is under test
    hub = Hub(loop=SimpleNamespace(call_later=lambda *a: None, call_soon=lambda *a: None, time=lambda: 0.0))
    hub.rooms["room"] = RoomState()
    version, known = hub.private_state("room")
    assert known is UNKNOWN
    hub.deliver("room", 1, with_id(1, {"type": "private_started", "private_id": 7, "kind": "private"}))
    hub.remember_private("room", version, None)  # read before the private started
    assert hub.private_state("room")[1] is UNKNOWN
    version, _ = hub.private_state("room")
    hub.remember_private("room", version, "p7 state")
    assert hub.private_state("room")[1] == "p7 state"
    hub.deliver("room", 2, with_id(2, {"type": "message", "text": '"type":"private_ended"'}))
    assert hub.private_state("room")[1] == "p7 state"  # said in a message, not the event
    hub.deliver("room", 3, with_id(3, {"type": "private_ended", "private_id": 7}))
    assert hub.private_state("room")[1] is UNKNOWN

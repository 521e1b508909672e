"""History API, room events from other capabilities, the room page slot."""

from __future__ import annotations

import pytest
from django.db import transaction

from marquee.chat import services, store
from marquee.chat.models import ChatRoomRules
from marquee.lib import realtime
from marquee.lib.events import send_room_event
from tests.support.chat import Socket, run, session_cookie

URL = "/api/v1/rooms/{}/messages/"


def publish_messages(performer, user, count):
    for i in range(count):
        services.post_message(user=user, performer=performer, text=f"msg {i}", role="performer", is_moderator=True)
    store.flush()


@pytest.mark.django_db
def test_history_pages_back_with_before(client, performer, viewer):
    publish_messages(performer, performer.user, 70)
    services.delete_message(actor=performer.user, performer=performer, message_id=69)
    client.force_login(viewer)
    first = client.get(URL.format("performer")).json()
    assert [m["id"] for m in first["messages"]] == [*range(20, 69), 70]
    assert first["next_before"] == 20
    older = client.get(URL.format("performer"), {"before": first["next_before"]}).json()
    assert [m["id"] for m in older["messages"]] == list(range(1, 20))
    assert older["next_before"] is None
    assert older["messages"][0]["text"] == "msg 0" and older["messages"][0]["user"] == "performer"


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["before=abc", "limit=0", "limit=1000", "before=-3"])
def test_history_bad_parameters_are_400(client, performer, viewer, query):
    client.force_login(viewer)
    response = client.get(URL.format("performer") + "?" + query)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


@pytest.mark.django_db
def test_history_respects_visibility(client, performer, settings):
    publish_messages(performer, performer.user, 2)
    assert client.get(URL.format("performer")).status_code == 401  # no age gate
    session = client.session
    session["age_gate_passed"] = True
    session.save()
    assert client.get(URL.format("performer")).status_code == 200
    performer.anonymous_can_read_chat = False
    performer.save()
    assert client.get(URL.format("performer")).status_code == 401
    performer.is_suspended = True
    performer.save()
    assert client.get(URL.format("performer")).status_code == 404
    assert client.get(URL.format("nobody")).status_code == 404


@pytest.mark.django_db
def test_moderation_log_and_review_queue_for_moderators_only(client, performer, moderator, viewer):
    ChatRoomRules.objects.create(performer=performer, regex_rules=[{"pattern": "hold me", "action": "hold"}])
    services.post_message(user=viewer, performer=performer, text="hold me", role="viewer", is_moderator=False)
    services.set_slow_mode(actor=moderator, performer=performer, seconds=10)
    client.force_login(viewer)
    for path in ("log", "held"):
        response = client.get(f"/api/v1/rooms/performer/moderation/{path}/")
        assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    client.force_login(moderator)
    log = client.get("/api/v1/rooms/performer/moderation/log/").json()["entries"]
    assert log[0]["action"] == "slow_mode" and log[0]["actor"] == "moderator"
    held = client.get("/api/v1/rooms/performer/moderation/held/").json()["held"]
    assert [h["text"] for h in held] == ["hold me"]


@pytest.mark.django_db(transaction=True)
def test_tips_and_show_events_reach_the_room_with_ids(viewer, performer):
    cookie = session_cookie(viewer)

    async def scenario():
        from asgiref.sync import sync_to_async

        s = Socket("performer", cookie=cookie)
        assert await s.connect()
        await s.event("hello")

        def emit():
            with transaction.atomic():
                send_room_event("performer", "show_started", {"show": 7, "kind": "public", "title": "Hi"})
                send_room_event("performer", "tip", {"id": 3, "from": "viewer", "tokens": 25, "message": "<b>"})
                send_room_event("performer", "goal_reached", {"label": "Song"})
                send_room_event("performer", "show_ended", {"show": 7})

        await sync_to_async(emit)()
        events = [await s.event(kind) for kind in ("show_started", "tip", "goal_reached", "show_ended")]
        assert [e["id"] for e in events] == [1, 2, 3, 4]
        assert events[1]["tokens"] == 25 and events[1]["message"] == "<b>" and events[1]["tip_id"] == 3
        await s.disconnect()

    run(scenario)


@pytest.mark.django_db
def test_rolled_back_events_are_never_sent(performer):
    with pytest.raises(RuntimeError), transaction.atomic():
        send_room_event("performer", "tip", {"tokens": 1})
        raise RuntimeError
    assert realtime.recent_events("performer") == (0, [])


@pytest.mark.django_db
def test_room_page_has_the_chat_panel(client, performer, moderator):
    client.force_login(moderator)
    html = client.get("/rooms/performer/").content.decode()
    assert 'data-ws-path="/ws/rooms/performer/chat/"' in html
    assert "js/chat.js" in html and "data-chat-modbar" in html

"""Bad input, floods, resume, history on join."""

from __future__ import annotations

import asyncio
import json

import pytest

from marquee.chat import hub as hub_module
from marquee.chat import protocol
from marquee.chat.connection import Connection
from marquee.chat.tests.conftest import Socket, run, session_cookie
from marquee.lib import realtime
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

XSS = ["<img src=x onerror=alert(1)>", '<script>alert("x")</script>', '"><svg/onload=alert(1)>', "{{7*7}}"]


def test_xss_payloads_travel_as_plain_text(outsider, performer):
    a, b = session_cookie(performer.user), session_cookie(outsider)

    async def scenario():
        sa, sb = Socket("performer", cookie=a), Socket("performer", cookie=b)
        assert await sa.connect() and await sb.connect()
        await sb.event("hello")
        for payload in XSS:
            await sa.send({"type": "message", "text": payload})
            assert (await sb.event("message"))["text"] == payload
        await sa.disconnect()
        await sb.disconnect()

    run(scenario)


def test_bad_frames_get_clear_errors_and_the_socket_stays_usable(viewer, performer, settings):
    cookie = session_cookie(viewer)

    async def scenario():
        s = Socket("performer", cookie=cookie)
        assert await s.connect()
        await s.event("hello")
        # (An oversized frame closes the socket: test_trust.py.)
        await s.send("{not json")
        assert (await s.event("error"))["code"] == "invalid_json"
        await s.send("[1, 2]")
        assert (await s.event("error"))["code"] == "invalid_json"
        await s.send({"type": "launch-rockets", "ref": "u1"})
        assert (await s.event("error", ref="u1"))["code"] == "unknown_type"
        await s.send({"type": "message", "text": 42})
        assert (await s.event("error"))["code"] == "invalid"
        await s.comm.send_to(bytes_data=b"\x00\x01")
        assert (await s.event("error"))["code"] == "invalid_frame"
        await s.send({"type": "message", "text": "x" * (settings.CHAT_MODERATION["max_length"] + 1)})
        assert (await s.event("error"))["code"] == "too_long"
        await s.send({"type": "ping", "ref": "p"})
        await s.event("pong", ref="p")
        assert s.close_code is None
        await s.disconnect()

    run(scenario)


def test_flood_from_one_client_does_not_disturb_others(viewer, outsider, performer):
    flooder_cookie, reader_cookie = session_cookie(viewer), session_cookie(outsider)
    third = UserFactory(username="third")
    third_cookie = session_cookie(third)

    async def scenario():
        flooder = Socket("performer", cookie=flooder_cookie)
        reader = Socket("performer", cookie=reader_cookie)
        poster = Socket("performer", cookie=third_cookie)
        for s in (flooder, reader, poster):
            assert await s.connect()
            await s.event("hello")
        for i in range(80):
            await flooder.send({"type": "message", "text": f"spam {i}"})
        await poster.send({"type": "message", "text": "a normal message"})
        got = await reader.until(lambda e: e.get("type") == "message" and e["text"] == "a normal message")
        assert got["user"] == "third"
        events = await flooder.drain(0.5)
        codes = {e.get("code") for e in events if e["type"] == "error"}
        assert "flood" in codes and "rate_limited" in codes
        # The reader saw at most the flooder's first few (rate-limited) messages.
        spam = [e for e in await reader.drain(0.3) if e.get("text", "").startswith("spam")]
        assert len(spam) <= 5
        for s in (flooder, reader, poster):
            await s.disconnect()

    run(scenario)


def test_resume_after_reconnect_without_gaps_or_duplicates(viewer, performer):
    performer_cookie, viewer_cookie = session_cookie(performer.user), session_cookie(viewer)

    async def scenario():
        sender = Socket("performer", cookie=performer_cookie)
        reader = Socket("performer", cookie=viewer_cookie)
        assert await sender.connect() and await reader.connect()
        await sender.event("hello")
        await reader.event("hello")
        for i in range(3):
            await sender.send({"type": "message", "text": f"before {i}"})
        seen = [await reader.event("message", text=f"before {i}") for i in range(3)]
        last = seen[-1]["id"]
        await reader.disconnect()
        for i in range(4):
            await sender.send({"type": "message", "text": f"while away {i}"})
        await sender.event("ack")
        for _ in range(3):
            await sender.event("ack")
        back = Socket("performer", cookie=viewer_cookie, query=f"last_id={last}")
        assert await back.connect()
        hello = await back.event("hello")
        assert hello["reset"] is False
        await sender.send({"type": "message", "text": "live again"})
        received = []
        while not any(e.get("text") == "live again" for e in received):
            received += await back.drain(0.3)
        ids = [e["id"] for e in received if "id" in e]
        # Replay then live: every id after the last seen one, once, in order.
        assert ids == list(range(last + 1, last + 6))
        texts = [e["text"] for e in received if e.get("type") == "message"]
        assert texts == [f"while away {i}" for i in range(4)] + ["live again"]
        await back.disconnect()
        await sender.disconnect()

    run(scenario)


def test_resume_from_an_id_no_longer_kept_resets(viewer, performer, settings):
    settings.CHAT_HISTORY_EVENTS = 50
    for i in range(60):
        realtime.publish_room_event("performer", {"type": "message", "user": "x", "text": f"m{i}"})
    cookie = session_cookie(viewer)

    async def scenario():
        s = Socket("performer", cookie=cookie, query="last_id=2")
        assert await s.connect()
        hello = await s.event("hello")
        assert hello["reset"] is True and hello["last_id"] == 60
        await s.disconnect()

    run(scenario)


def test_join_sends_last_50_visible_messages(viewer, performer):
    from marquee.chat import services

    for i in range(55):
        realtime.publish_room_event("performer", {"type": "message", "user": "performer", "text": f"m{i}"})
    services.delete_message(actor=performer.user, performer=performer, message_id=55)
    cookie = session_cookie(viewer)

    async def scenario():
        s = Socket("performer", cookie=cookie)
        assert await s.connect()
        await s.event("hello")
        await asyncio.sleep(0.05)
        messages = [e for e in await s.drain() if e.get("type") == "message"]
        assert [m["text"] for m in messages] == [f"m{i}" for i in range(4, 54)]
        await s.disconnect()

    run(scenario)


def test_slow_client_is_disconnected_not_waited_for(settings):
    """A socket whose writes block fills its buffer and is closed with 4408;
    pushing to it never blocks the caller."""
    settings.CHAT_CLIENT_BUFFER_FRAMES = 4

    async def scenario():
        blocked = asyncio.Event()
        sent = []

        async def stuck_send(message):
            sent.append(message)
            await blocked.wait()

        conn = Connection(stuck_send, "room")
        for i in range(10):
            conn.push(json.dumps([{"id": i}]))
        assert conn.closed and conn.close_code == protocol.CLOSE_TOO_SLOW
        assert conn.done.done()
        assert len(sent) == 1  # only the first write started; nothing waited on it
        conn.driver.cancel()

    run(scenario)


def test_a_process_that_missed_events_makes_its_sockets_resume():
    """Ids have no gaps; if this process's subscription skipped some, its
    sockets are closed with 4408 so they resume instead of silently missing."""

    async def scenario():
        hub = hub_module.get_hub()
        sent = []

        async def send(message):
            sent.append(message)

        conn = Connection(send, "gappy")
        state = hub.rooms["gappy"] = hub_module.RoomState()
        state.live.add(conn)
        hub.deliver("gappy", 1, '{"id":1,"type":"message"}')
        assert not conn.closed
        hub.deliver("gappy", 3, '{"id":3,"type":"message"}')
        assert conn.closed and conn.close_code == protocol.CLOSE_TOO_SLOW
        del hub.rooms["gappy"]

    run(scenario)

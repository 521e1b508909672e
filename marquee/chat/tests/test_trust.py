"""Issue 11 ("trust"): sessions, replay of deleted messages, Origin, bans,
moderator rights and socket exhaustion."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import pytest
from asgiref.sync import sync_to_async
from rest_framework.test import APIClient

from marquee.chat import fanout, services, store
from marquee.chat.models import ChatBan, ChatMessage
from marquee.chat.tests.conftest import Socket, run, session_cookie
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def app_login(user) -> dict:
    """Tokens from allauth's headless app login, as a native app gets them."""
    response = APIClient().post(
        "/_allauth/app/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["meta"]


@pytest.fixture
def live_ws(settings):
    """The ASGI app served by a real uvicorn (in a thread, same test
    database), with the WebSocket size limit the Procfile gives it."""
    import uvicorn

    from marquee.asgi import application

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        application,
        host="127.0.0.1",
        port=port,
        ws="websockets",
        ws_max_size=settings.CHAT_MAX_FRAME_BYTES,
        lifespan="off",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"ws://127.0.0.1:{port}/ws/rooms/performer/chat/"
    server.should_exit = True
    thread.join(10)


async def next_event(ws, kind, timeout=5.0, **fields) -> dict:
    """Read frames (JSON arrays) until an event of ``kind`` with ``fields``."""
    async with asyncio.timeout(timeout):
        while True:
            for event in json.loads(await ws.recv()):
                if event.get("type") == kind and all(event.get(k) == v for k, v in fields.items()):
                    return event


async def joined(cookie, room="performer", **kwargs):
    s = Socket(room, cookie=cookie, **kwargs)
    assert await s.connect()
    await s.event("hello")
    return s


# --- 8. Deleted and cleared messages are never replayed -------------------------------------


def test_resume_from_zero_does_not_replay_deleted_or_cleared_messages(viewer, outsider, performer):
    for user, text in ((viewer, "keep me"), (viewer, "delete me"), (outsider, "clear me"), (outsider, "clear me too")):
        services.post_message(user=user, performer=performer, text=text, role="viewer", is_moderator=False)
    _, ring = fanout.recent_events("performer")
    delete_id = next(seq for seq, raw in ring if "delete me" in raw)
    services.delete_message(actor=performer.user, performer=performer, message_id=delete_id)
    services.clear_user_messages(actor=performer.user, performer=performer, target=outsider)
    cookie = session_cookie(viewer)

    async def scenario():
        texts = {}
        for query in ("last_id=0", "last_id=1", ""):
            s = await joined(cookie, query=query)
            texts[query] = [e.get("text") for e in await s.drain(0.2) if e.get("type") == "message"]
            await s.disconnect()
        return texts

    texts = run(scenario)
    # Resume (with and without the first message) and a fresh join alike.
    assert texts == {"last_id=0": ["keep me"], "last_id=1": [], "": ["keep me"]}


# --- Bans hold when posting and reconnecting ----------------------------------------------


@pytest.mark.parametrize("scope", ["room", "site"])
def test_banned_user_post_is_refused_stored_nowhere_and_reconnect_refused(viewer, outsider, performer, scope):
    viewer_cookie, outsider_cookie = session_cookie(viewer), session_cookie(outsider)

    async def scenario():
        banned = await joined(viewer_cookie)
        other = await joined(outsider_cookie)
        # Written straight to the table: no kick event closes the open socket,
        # as when the ban's event went to a process that missed it.
        await sync_to_async(ChatBan.objects.create)(
            performer=performer if scope == "room" else None, user=viewer, kind="ban", created_by=performer.user
        )
        await banned.send({"type": "message", "text": "banned words", "ref": "b"})
        refused = await banned.event("error", ref="b")
        assert refused["code"] == "banned"
        assert not [e for e in await other.drain(0.3) if e.get("type") == "message"]
        await banned.disconnect()
        again = Socket("performer", cookie=viewer_cookie)
        assert await again.connect()
        assert await again.closed() == 4403
        assert (await again.event("error"))["code"] == "banned"
        assert not any(e["type"] == "hello" for e in again.buffer)
        await other.disconnect()

    run(scenario)
    store.flush()
    _, ring = fanout.recent_events("performer")
    assert not [raw for _, raw in ring if "banned words" in raw]
    assert not ChatMessage.objects.filter(text="banned words").exists()


# --- 11. No Origin: JWT only; a foreign Origin stays refused ---------------------------------


def test_client_without_origin_chats_with_its_jwt_from_the_app_login(live_ws, viewer, outsider, performer):
    from websockets.asyncio.client import connect

    token = app_login(viewer)["access_token"]
    outsider_cookie = session_cookie(outsider).decode()

    async def scenario():
        async with (
            connect(live_ws, origin=None) as app,
            connect(live_ws, origin="http://testserver", additional_headers={"Cookie": outsider_cookie}) as browser,
        ):
            assert (await next_event(browser, "hello"))["user"] == "outsider"
            await app.send(json.dumps({"type": "auth", "token": token}))
            hello = await next_event(app, "hello")
            assert hello["user"] == "viewer" and hello["can_post"] is True
            await app.send(json.dumps({"type": "message", "text": "hello from a native app", "ref": 1}))
            assert (await next_event(app, "ack", ref=1))["message_id"] > 0
            received = await next_event(browser, "message")
            assert (received["user"], received["text"]) == ("viewer", "hello from a native app")

    asyncio.run(scenario())


def test_client_without_origin_is_never_authenticated_by_its_cookie(live_ws, viewer, performer):
    from websockets.asyncio.client import connect

    cookie = session_cookie(viewer).decode()

    async def scenario():
        async with connect(live_ws, origin=None, additional_headers={"Cookie": cookie}) as ws:
            await ws.send(json.dumps({"type": "message", "text": "riding a cookie"}))
            error = await next_event(ws, "error")
            assert error["code"] == "auth_required"
            await ws.wait_closed()
            return ws.close_code

    assert asyncio.run(scenario()) == 4401
    assert not [raw for _, raw in fanout.recent_events("performer")[1] if "riding a cookie" in raw]


@pytest.mark.parametrize("origin", ["http://evil.example", "null"])
def test_browser_with_a_foreign_origin_is_refused(live_ws, viewer, performer, origin):
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    cookie = session_cookie(viewer).decode()

    async def scenario():
        with pytest.raises(InvalidStatus) as refused:
            async with connect(live_ws, origin=origin, additional_headers={"Cookie": cookie}):
                pass
        return refused.value.response.status_code

    assert asyncio.run(scenario()) == 403

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

from marquee.audit.models import AuditEvent
from marquee.chat import services, store
from marquee.chat.models import ChatBan, ChatMessage
from marquee.chat.tests.conftest import Socket, run, session_cookie
from marquee.lib import realtime
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def app_login(user) -> dict:
    """Tokens from allauth's headless app login, as a native app gets them."""
    response = APIClient().post(
        "/_allauth/app/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["meta"]


def procfile_ws_max_size() -> int:
    """The ``--ws-max-size`` the Procfile starts uvicorn with, as its shell expands it."""
    import os
    import shlex
    import subprocess
    from pathlib import Path

    web = next(
        line
        for line in (Path(__file__).resolve().parents[3] / "Procfile").read_text().splitlines()
        if line.startswith("web:")
    )
    args = shlex.split(web.partition(":")[2])
    value = args[args.index("--ws-max-size") + 1]
    env = {k: v for k, v in os.environ.items() if k != "CHAT_MAX_FRAME_BYTES"}
    return int(
        subprocess.run(["sh", "-c", f"printf %s {value}"], env=env, capture_output=True, text=True, check=True).stdout
    )


@pytest.fixture
def live_ws(settings):
    """The ASGI app served by a real uvicorn (in a thread, same test
    database), with the WebSocket size limit the Procfile gives it."""
    import uvicorn

    from marquee.asgi import application

    max_size = procfile_ws_max_size()
    assert max_size == settings.CHAT_MAX_FRAME_BYTES  # the server reads no more than the protocol allows
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        application,
        host="127.0.0.1",
        port=port,
        ws="websockets",
        ws_max_size=max_size,
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
    _, ring = realtime.recent_events("performer")
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
    _, ring = realtime.recent_events("performer")
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
    assert not [raw for _, raw in realtime.recent_events("performer")[1] if "riding a cookie" in raw]


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


# --- 6. Every way a session ends closes its sockets -----------------------------------------


def web_login(user):
    """A browser session through allauth's real login form (it records a UserSession)."""
    from django.test import Client

    client = Client()
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client, f"sessionid={client.cookies['sessionid'].value}".encode()


def test_ending_a_session_on_the_sessions_page_closes_its_sockets(viewer, performer):
    _phone, phone_cookie = web_login(viewer)
    laptop, laptop_cookie = web_login(viewer)

    async def scenario():
        ended = await joined(phone_cookie)
        kept = await joined(laptop_cookie)
        # From the laptop: "sign out my other sessions".
        response = await sync_to_async(laptop.post)("/accounts/sessions/")
        assert response.status_code == 302
        assert await ended.closed() == 4401
        assert (await ended.event("error"))["code"] == "session_ended"
        await kept.send({"type": "ping", "ref": "p"})
        await kept.event("pong", ref="p")
        assert kept.close_code is None
        await kept.disconnect()

    run(scenario)


def test_refresh_token_reuse_closes_the_sessions_jwt_sockets(viewer, performer):
    tokens = app_login(viewer)
    api = APIClient()
    first = api.post("/_allauth/app/v1/tokens/refresh", {"refresh_token": tokens["refresh_token"]}, format="json")
    assert first.status_code == 200, first.content

    async def scenario():
        s = Socket("performer", origin=None)
        assert await s.connect()
        await s.send({"type": "auth", "token": first.json()["data"]["access_token"]})
        await s.event("hello")
        # The old refresh token comes back: theft, so the session is revoked.
        reuse = await sync_to_async(api.post)(
            "/_allauth/app/v1/tokens/refresh", {"refresh_token": tokens["refresh_token"]}, format="json"
        )
        assert reuse.status_code >= 400
        assert await s.closed() == 4401
        assert (await s.event("error"))["code"] in ("session_revoked", "session_ended")

    run(scenario)
    assert AuditEvent.objects.filter(action="auth.session_revoked", actor_id=viewer.pk).exists()


def test_revoking_a_session_closes_its_sockets_even_without_a_usersession_row(viewer, outsider, performer):
    """accounts.tokens.revoke_session publishes the revocation itself (a
    session logged in without allauth's login flow has no UserSession row)."""
    from importlib import import_module

    from allauth.usersessions.models import UserSession
    from django.conf import settings

    from marquee.accounts.tokens import revoke_session

    cookie, other_cookie = session_cookie(viewer), session_cookie(outsider)
    session_key = cookie.decode().partition("=")[2]
    assert not UserSession.objects.filter(session_key=session_key).exists()

    async def scenario():
        revoked = await joined(cookie)
        other = await joined(other_cookie)
        store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        await sync_to_async(revoke_session)(store, reason="test", user_id=None)
        assert await revoked.closed() == 4401
        assert (await revoked.event("error"))["code"] == "session_revoked"
        await other.send({"type": "ping", "ref": "p"})
        await other.event("pong", ref="p")
        await other.disconnect()

    run(scenario)


def test_cookie_socket_rechecks_its_session_and_closes_when_it_no_longer_logs_in(viewer, outsider, performer, settings):
    """No event at all (a password change invalidates the session's hash):
    the periodic re-check alone closes the socket; others stay."""
    settings.CHAT_SESSION_RECHECK_SECONDS = 1
    viewer_cookie, outsider_cookie = session_cookie(viewer), session_cookie(outsider)

    async def scenario():
        stale = await joined(viewer_cookie)
        fine = await joined(outsider_cookie)
        viewer.set_password("a whole new password 123")
        await sync_to_async(viewer.save)()
        assert await stale.closed(timeout=4) == 4401
        assert (await stale.event("error"))["code"] == "session_ended"
        await fine.send({"type": "ping", "ref": "p"})
        await fine.event("pong", ref="p")
        assert fine.close_code is None
        await fine.disconnect()

    run(scenario)


def test_jwt_socket_passes_the_session_recheck_until_its_session_stops_logging_in(viewer, performer, settings):
    settings.CHAT_SESSION_RECHECK_SECONDS = 1
    token = app_login(viewer)["access_token"]

    async def scenario():
        s = Socket("performer", origin=None)
        assert await s.connect()
        await s.send({"type": "auth", "token": token})
        await s.event("hello")
        await asyncio.sleep(2.5)  # two re-checks of a live app session
        await s.send({"type": "ping", "ref": "p"})
        await s.event("pong", ref="p")
        assert s.close_code is None
        viewer.set_password("a whole new password 123")
        await sync_to_async(viewer.save)()
        assert await s.closed(timeout=4) == 4401
        assert (await s.event("error"))["code"] == "session_ended"

    run(scenario)


# --- A demoted moderator stops seeing the review queue at once ------------------------------


def test_demoted_moderator_stops_receiving_held_messages(viewer, moderator, performer):
    from marquee.chat.models import ChatRoomRules
    from marquee.performers.services import remove_moderator

    ChatRoomRules.objects.create(performer=performer, regex_rules=[{"pattern": "review me", "action": "hold"}])
    cookies = [session_cookie(u) for u in (viewer, moderator, performer.user)]

    async def scenario():
        author, demoted, owner = [await joined(c) for c in cookies]
        await author.send({"type": "message", "text": "first review me", "ref": 1})
        await demoted.event("review", action="held")
        await owner.event("review", action="held")
        await sync_to_async(remove_moderator)(performer=performer, user_id=moderator.pk)
        rights = await demoted.event("rights")
        assert rights["is_moderator"] is False and rights["role"] == "viewer"
        await author.send({"type": "message", "text": "second review me", "ref": 2})
        assert (await owner.event("review", action="held"))["text"] == "second review me"
        assert not [e for e in await demoted.drain(0.3) if e["type"] == "review"]
        await demoted.send({"type": "mod", "action": "ban", "user": "viewer", "ref": "x"})
        assert (await demoted.event("error", ref="x"))["code"] == "forbidden"
        for s in (author, demoted, owner):
            await s.disconnect()

    run(scenario)
    assert not ChatBan.objects.exists()


# --- 15. Socket exhaustion ------------------------------------------------------------------


def test_oversized_frame_is_refused_by_the_server_before_it_is_read_whole(live_ws, viewer, performer):
    """uvicorn is given the protocol's limit: a 15 MiB frame closes the
    socket with 1009 (nothing read whole, no reply), and the server and
    other sockets carry on."""
    from websockets.asyncio.client import connect

    token = app_login(viewer)["access_token"]

    async def scenario():
        async with connect(live_ws, origin=None, max_size=None) as ws:
            await ws.send(json.dumps({"type": "auth", "token": token}))
            await next_event(ws, "hello")
            await ws.send(json.dumps({"type": "message", "text": "x" * (15 * 1024 * 1024)}))
            await ws.wait_closed()
            closed_with = ws.close_code
        async with connect(live_ws, origin=None) as again:
            await again.send(json.dumps({"type": "auth", "token": token}))
            assert (await next_event(again, "hello"))["user"] == "viewer"
        return closed_with

    assert asyncio.run(scenario()) == 1009
    assert not ChatMessage.objects.exists()


@pytest.mark.parametrize("payload", ["text", "bytes", "multibyte"])
def test_app_closes_on_a_frame_over_the_limit_even_without_the_server_flag(viewer, performer, settings, payload):
    limit = settings.CHAT_MAX_FRAME_BYTES
    cookie = session_cookie(viewer)

    async def scenario():
        s = await joined(cookie)
        if payload == "bytes":
            await s.comm.send_to(bytes_data=b"x" * (limit + 1))
        elif payload == "multibyte":  # fewer characters than the limit, more bytes
            await s.send(json.dumps({"type": "message", "text": "é" * (limit // 2)}, ensure_ascii=False))
        else:
            await s.send({"type": "message", "text": "x" * limit})
        assert await s.closed() == 1009
        assert (await s.event("error"))["code"] == "frame_too_large"

    run(scenario)
    store.flush()
    assert not ChatMessage.objects.exists()


def test_sockets_per_ip_are_capped_and_places_free_up(settings, performer, age_ok_client):
    settings.CHAT_MAX_SOCKETS_PER_IP = 3
    settings.CHAT_MAX_SOCKETS_PER_SESSION = 100
    cookie = f"sessionid={age_ok_client.cookies['sessionid'].value}".encode()

    async def scenario():
        opened = [await joined(cookie, client_ip="198.51.100.7") for _ in range(3)]
        extra = Socket("performer", cookie=cookie, client_ip="198.51.100.7")
        assert await extra.connect()
        assert await extra.closed() == 4429
        assert (await extra.event("error"))["code"] == "too_many_connections"
        assert not any(e["type"] == "hello" for e in extra.buffer)
        # Another address is not affected; a closed socket frees its place.
        other = await joined(cookie, client_ip="198.51.100.8")
        await opened[0].disconnect()
        await asyncio.sleep(0.1)
        replacement = await joined(cookie, client_ip="198.51.100.7")
        for s in (*opened[1:], other, replacement):
            await s.disconnect()

    run(scenario)


@pytest.mark.parametrize("kind", ["user", "session"])
def test_sockets_per_user_and_per_session_are_capped(settings, viewer, performer, kind):
    settings.CHAT_MAX_SOCKETS_PER_IP = 100
    settings.CHAT_MAX_SOCKETS_PER_USER = 2 if kind == "user" else 100
    settings.CHAT_MAX_SOCKETS_PER_SESSION = 2 if kind == "session" else 100
    # A session each (user cap) or one shared session (session cap).
    cookies = [session_cookie(viewer) for _ in range(3)] if kind == "user" else [session_cookie(viewer)] * 3
    token = app_login(viewer)["access_token"]

    async def scenario():
        first = [await joined(c, client_ip=f"203.0.113.{i}") for i, c in enumerate(cookies[:2])]
        extra = Socket("performer", cookie=cookies[2], client_ip="203.0.113.9")
        assert await extra.connect()
        assert await extra.closed() == 4429
        if kind == "user":  # the JWT path is capped too
            app = Socket("performer", origin=None, client_ip="203.0.113.10")
            assert await app.connect()
            await app.send({"type": "auth", "token": token})
            assert await app.closed() == 4429
        for s in first:
            await s.disconnect()

    run(scenario)


def test_many_sockets_of_one_viewer_count_once_in_presence(settings, viewer, outsider, performer, age_ok_client):
    settings.CHAT_PRESENCE_SECONDS = 1
    settings.CHAT_MAX_SOCKETS_PER_USER = 100
    settings.CHAT_MAX_SOCKETS_PER_SESSION = 100
    viewer_cookie, outsider_cookie = session_cookie(viewer), session_cookie(outsider)
    anonymous_cookie = f"sessionid={age_ok_client.cookies['sessionid'].value}".encode()

    async def scenario():
        watcher = await joined(outsider_cookie)
        mine = [await joined(viewer_cookie) for _ in range(8)]
        mine += [await joined(anonymous_cookie, client_ip="192.0.2.50") for _ in range(5)]
        hello = None
        late = Socket("performer", cookie=viewer_cookie)
        assert await late.connect()
        hello = await late.event("hello")
        await asyncio.sleep(2.5)
        presence = [e["viewers"] for e in await watcher.drain(0.2) if e["type"] == "presence"]
        for s in (watcher, *mine, late):
            await s.disconnect()
        return hello["viewers"], presence

    hello_viewers, presence = run(scenario)
    # outsider, viewer (9 sockets) and one anonymous address (5 sockets)
    assert hello_viewers == 3
    assert presence and presence[-1] == 3


def test_places_are_counted_per_key_and_freed_on_release(settings):
    from marquee.chat import limits

    settings.CHAT_MAX_SOCKETS_PER_IP = 2

    async def scenario():
        a, b, c = limits.Lease(), limits.Lease(), limits.Lease()
        assert await a.take("ip", "192.0.2.1") and await b.take("ip", "192.0.2.1")
        assert await a.take("ip", "192.0.2.1")  # a place already held is not taken twice
        refused = await c.take("ip", "192.0.2.1")
        other_ip = await c.take("ip", "192.0.2.2")
        await a.release()
        freed = await c.take("ip", "192.0.2.1")
        for lease in (b, c):
            await lease.release()
        return refused, other_ip, freed

    assert run(scenario) == (False, True, True)


def test_on_redis_a_dead_processes_places_lapse_and_live_sockets_keep_theirs(settings, viewer, performer):
    """Across processes the counts live in Redis: places not renewed (their
    process died) lapse after the lease; the hub renews its live sockets'."""
    from marquee.chat import limits

    if not settings.REDIS_URL:
        pytest.skip("the cross-process counters need Redis")
    settings.CHAT_SOCKET_LEASE_SECONDS = 2
    settings.CHAT_STORE_FLUSH_MS = 100
    settings.CHAT_MAX_SOCKETS_PER_USER = 2
    cookies = [session_cookie(viewer) for _ in range(4)]

    async def scenario():
        dead = limits.Lease()
        dead.member = "a-dead-process:1"
        assert await dead.take("user", viewer.pk)  # never renewed, never released
        live = await joined(cookies[0])
        refused = Socket("performer", cookie=cookies[1])
        assert await refused.connect()
        assert await refused.closed() == 4429
        await asyncio.sleep(3)  # the dead place lapses; the live socket's is renewed
        second = await joined(cookies[2])
        third = Socket("performer", cookie=cookies[3])
        assert await third.connect()
        assert await third.closed() == 4429
        for s in (live, second):
            await s.disconnect()

    run(scenario)

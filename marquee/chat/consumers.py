"""The room chat WebSocket: ``/ws/rooms/<performer-username>/chat/``.

A thin ASGI WebSocket application rather than a Channels consumer: Channels'
``AsyncConsumer.dispatch`` hops to a worker thread for every delivered
message (to close old DB connections) — 30–53% of a worker's time with 3,000
sockets (DESIGN.md).  Here live events never touch a thread: the hub
(``marquee.chat.hub``) pushes ready-made frames into this socket's bounded buffer and
one writer task drains it.  Only what the client sends (posts, moderator
actions, auth) goes through a thread, to services.  It still runs behind
Channels' AllowedHostsOriginValidator and AuthMiddlewareStack (asgi.py).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import deque
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings

from marquee.access import selectors as entitlement
from marquee.chat import limits, protocol, services
from marquee.chat.hub import get_hub
from marquee.compliance.middleware import AGE_GATE_SESSION_KEY
from marquee.lib.clientip import client_ip_from_scope
from marquee.lib.errors import DomainError
from marquee.lib.geo import locate
from marquee.lib.metrics import chat_stats
from marquee.lib.realtime import dumps

_CLOSE = object()


class Connection:
    """One socket as the hub sees it: identity, position in the room's event
    stream, and a bounded outgoing buffer.

    Frames are written eagerly: ``push`` steps the ASGI ``send`` coroutine
    itself, which completes at once while the transport is writable (no task
    switch per delivery).  Only when a send has to wait (the client is slow)
    does a task take over and later frames queue behind it, up to the bound.
    """

    def __init__(self, send, room: str):
        self._send = send
        self.room = room
        self.user = None
        self.user_id = None
        self.session_key = None
        self.can_post = False
        self.is_moderator = False
        self.role = "viewer"
        self.expires_at = None  # JWT expiry (epoch seconds)
        self.performer = None
        self.ip = ""
        self.lease = limits.Lease()
        self.resume_override = None
        self.last_id = 0
        self.pending = None
        self.closed = False
        self.close_code = None
        self._out: deque = deque()
        self.driver = None  # the task finishing a send that had to wait
        self.done = asyncio.get_running_loop().create_future()
        self.recheck = asyncio.Event()  # set: re-check session and rights now

    def push(self, frame: str) -> None:
        if self.closed:
            return
        if self.driver is None and not self._out:
            self._start({"type": "websocket.send", "text": frame})
            return
        if len(self._out) >= settings.CHAT_CLIENT_BUFFER_FRAMES:
            # Can't keep up: drop it rather than slow anyone down; it resumes.
            chat_stats.drops += len(self._out) + 1
            chat_stats.slow_disconnects += 1
            self._out.clear()
            self.close(protocol.CLOSE_TOO_SLOW)
            return
        self._out.append(frame)

    def _start(self, message: dict) -> None:
        coro = self._send(message)
        try:
            waiting_on = coro.send(None)
        except StopIteration:
            return  # written synchronously: the common case
        except Exception:
            self._gone()
            return
        self.driver = asyncio.ensure_future(self._finish(coro, waiting_on))

    async def _finish(self, coro, waiting_on) -> None:
        """Drive a send that had to wait, then drain the queue in order."""
        try:
            while True:
                try:
                    await waiting_on
                except asyncio.CancelledError:
                    coro.close()
                    raise
                except Exception:  # noqa: S110  (the coroutine sees it when resumed)
                    pass
                try:
                    waiting_on = coro.send(None)
                except StopIteration:
                    break
            while self._out:
                item = self._out.popleft()
                if isinstance(item, tuple):
                    await self._send({"type": "websocket.close", "code": item[1]})
                    return
                await self._send({"type": "websocket.send", "text": item})
        except asyncio.CancelledError:
            raise
        except Exception:
            self._gone()
        finally:
            self.driver = None

    def _gone(self) -> None:
        self.closed = True
        self._out.clear()
        if not self.done.done():
            self.done.set_result(None)

    def send_event(self, event: dict) -> None:
        self.push("[" + dumps(event) + "]")

    def error(self, code: str, message: str, **extra) -> None:
        self.send_event(protocol.error_event(code, message, **extra))

    def close(self, code: int, error_code: str = "", message: str = "") -> None:
        if self.closed:
            return
        if error_code:
            self.error(error_code, message)
        self.closed = True
        self.close_code = code
        if self.driver is None and not self._out:
            self._start({"type": "websocket.close", "code": code})
        else:
            self._out.append((_CLOSE, code))
        if not self.done.done():
            self.done.set_result(code)

    async def flushed(self, timeout: float) -> None:
        driver = self.driver  # it clears self.driver itself when it ends
        if driver is not None:
            try:
                await asyncio.wait_for(asyncio.shield(driver), timeout)
            except (TimeoutError, asyncio.CancelledError, Exception):
                driver.cancel()

    @property
    def presence_id(self) -> str:
        """Who counts as one viewer: a user however many sockets they open;
        anonymous sockets once per address."""
        return f"u{self.user_id}" if self.user_id else f"a{self.ip}"

    def hello(self, *, last_id: int, reset: bool, viewers: int) -> dict:
        return {
            "type": "hello",
            "room": self.room,
            "user": self.user.username if self.user else None,
            "role": self.role if self.user else None,
            "can_post": self.can_post,
            "is_moderator": self.is_moderator,
            "last_id": last_id,
            "reset": reset,
            "viewers": viewers,
        }

    def user_event(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "session_ended" and event.get("session_key") in (None, self.session_key):
            reason = event.get("reason") or "session_ended"
            self.close(
                protocol.CLOSE_UNAUTHENTICATED, reason, _SESSION_ENDED.get(reason, _SESSION_ENDED["session_ended"])
            )
        elif kind == "kick" and event.get("room") in (None, self.room):
            self.close(protocol.CLOSE_FORBIDDEN, "banned", "You were banned from this chat.")
        elif kind == "rights_changed" and self.performer is not None and event.get("performer_id") == self.performer.pk:
            self.recheck.set()
        elif kind == "room_push" and event.get("room") == self.room:
            self.send_event(event["event"])  # a private show's event for this user only (privates.push)


_SESSION_ENDED = {
    "logged_out": "You logged out.",
    "session_ended": "This session was ended: log in again.",
    "session_revoked": "This session was revoked: log in again.",
}


def _session_user(session_key):
    """The user the session (cookie or the JWT's) still logs in, or None
    when it was deleted, expired or invalidated (e.g. a password change)."""
    from importlib import import_module

    from allauth.core.internal.sessionkit import get_session_user

    if not session_key:
        return None
    return get_session_user(import_module(settings.SESSION_ENGINE).SessionStore(session_key))


def _validate_token(token):
    from allauth.headless.tokens.strategies.jwt import internal

    if not isinstance(token, str) or not token:
        return None
    result = internal.validate_access_token(token)
    if result is None:
        return None
    user, payload = result
    if not user.is_active:
        return None
    return user, payload, internal.session_key_from_sid(payload["sid"])


class ChatSocket:
    async def __call__(self, scope, receive, send):
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        room = scope["url_route"]["kwargs"]["username"]
        conn = Connection(send, room)
        conn.ip = client_ip_from_scope(scope)
        hub = get_hub()
        joined = False
        try:
            session = scope.get("session")
            if await _take(conn, "ip", conn.ip) and await _take(conn, "session", getattr(session, "session_key", None)):
                joined = await self._open(scope, receive, conn, hub)
            if joined:
                await self._serve(scope, receive, conn)
        finally:
            if joined:
                await hub.leave(conn)
            if not conn.closed:
                conn.close(1000)
            await conn.lease.release()
            await conn.flushed(timeout=1)

    # Opening: who is this, may they be here, then join the room's stream.

    async def _open(self, scope, receive, conn: Connection, hub) -> bool:
        user = scope.get("user")
        session = scope.get("session")
        authenticated = bool(user is not None and user.is_authenticated)
        location = locate(client_ip_from_scope(scope))
        age_ok = bool(session is not None and await database_sync_to_async(session.get)(AGE_GATE_SESSION_KEY))
        access = await database_sync_to_async(entitlement.chat)(
            viewer=user if authenticated else None, username=conn.room, location=location, age_gate_passed=age_ok
        )
        if authenticated:
            # Cookie sockets: the session re-check (_watch) bounds their life.
            conn.session_key = session.session_key if session is not None else None
        elif access.decision.status == 401:
            # API clients: the first message must be {"type": "auth", "token": ...}.
            user = await self._first_message_auth(receive, conn)
            if user is None:
                return False
            access = await database_sync_to_async(entitlement.chat)(
                viewer=user, username=conn.room, location=location, age_gate_passed=True
            )
            authenticated = True
        if not access.decision:
            code = {404: protocol.CLOSE_NOT_FOUND, 401: protocol.CLOSE_UNAUTHENTICATED}.get(
                access.decision.status, protocol.CLOSE_FORBIDDEN
            )
            conn.close(code, access.decision.code, access.decision.message)
            return False
        if authenticated:
            if not (await _take(conn, "user", user.pk) and await _take(conn, "session", conn.session_key)):
                return False
            self._identify(conn, user, access)
        conn.performer = access.performer
        resume = conn.resume_override if conn.resume_override is not None else _resume_from(scope)
        await hub.join(conn, resume)
        return True

    @staticmethod
    def _identify(conn: Connection, user, access) -> None:
        conn.user, conn.user_id = user, user.pk
        conn.can_post, conn.is_moderator, conn.role = access.can_post, access.is_moderator, access.role

    async def _first_message_auth(self, receive, conn: Connection):
        try:
            message = await asyncio.wait_for(receive(), timeout=settings.CHAT_AUTH_TIMEOUT_SECONDS)
        except TimeoutError:
            conn.close(protocol.CLOSE_UNAUTHENTICATED, "auth_timeout", 'Send {"type": "auth"} first.')
            return None
        if message["type"] != "websocket.receive":
            conn.closed = True
            return None
        if _too_large(conn, message):
            return None
        data = _parse(message.get("text"))
        if not isinstance(data, dict) or data.get("type") != "auth":
            conn.close(protocol.CLOSE_UNAUTHENTICATED, "auth_required", "Log in: the first message must be auth.")
            return None
        result = await database_sync_to_async(_validate_token)(data.get("token"))
        if result is None:
            conn.close(protocol.CLOSE_UNAUTHENTICATED, "invalid_token", "The access token is invalid or expired.")
            return None
        user, payload, session_key = result
        conn.expires_at, conn.session_key = payload["exp"], session_key
        if "last_id" in data and isinstance(data["last_id"], int):
            conn.resume_override = data["last_id"]
        return user

    # Serving: client frames in; live events go out through the hub.

    async def _serve(self, scope, receive, conn: Connection) -> None:
        watcher = asyncio.create_task(self._watch(conn))
        budget = _Budget()
        try:
            while not conn.closed:
                receiving = asyncio.ensure_future(receive())
                await asyncio.wait({receiving, conn.done}, return_when=asyncio.FIRST_COMPLETED)
                if not receiving.done():
                    receiving.cancel()
                    return
                message = receiving.result()
                if message["type"] == "websocket.disconnect":
                    conn.closed = True
                    return
                if not budget.take(moderator=conn.is_moderator):
                    if budget.should_warn():
                        conn.error("flood", "Too many frames: slow down.")
                    continue
                await self._handle(conn, message)
        finally:
            watcher.cancel()

    async def _watch(self, conn: Connection) -> None:
        """Close the socket when its access token expires; re-check its
        session every CHAT_SESSION_RECHECK_SECONDS (jittered, so a mass
        reconnect does not check in lockstep), and its session and rights at
        once when told (rights_changed).  The periodic check stays at two
        queries: bans and moderator changes arrive as events."""
        every = settings.CHAT_SESSION_RECHECK_SECONDS
        due = time.monotonic() + every * random.uniform(0.5, 1.0)  # jitter, not a secret
        while not conn.closed:
            wait = due - time.monotonic()
            if conn.expires_at is not None:
                wait = min(wait, conn.expires_at - time.time())
            if wait > 0 and not conn.recheck.is_set():
                try:
                    await asyncio.wait_for(conn.recheck.wait(), wait)
                except TimeoutError:
                    pass
            if conn.closed:
                return
            if conn.expires_at is not None and conn.expires_at <= time.time():
                conn.close(protocol.CLOSE_UNAUTHENTICATED, "token_expired", "The access token expired: send a new one.")
                return
            if conn.recheck.is_set() or time.monotonic() >= due:
                rights = conn.recheck.is_set()
                conn.recheck.clear()
                due = time.monotonic() + every
                await self._recheck(conn, rights=rights)

    async def _recheck(self, conn: Connection, *, rights: bool) -> None:
        """Is the socket's session still alive and its user's, and what may
        that user do here now (a demoted moderator stops seeing the review
        queue; a banned or suspended one is closed)?"""
        if conn.user_id is None:
            return
        user = await database_sync_to_async(_session_user)(conn.session_key)
        if conn.closed:
            return
        if user is None or user.pk != conn.user_id:
            return conn.close(protocol.CLOSE_UNAUTHENTICATED, "session_ended", _SESSION_ENDED["session_ended"])
        if not rights:
            return
        access = await database_sync_to_async(entitlement.chat)(
            viewer=user, username=conn.room, location=locate(conn.ip), age_gate_passed=True
        )
        if conn.closed:
            return
        if not access.decision:
            code = {404: protocol.CLOSE_NOT_FOUND, 401: protocol.CLOSE_UNAUTHENTICATED}.get(
                access.decision.status, protocol.CLOSE_FORBIDDEN
            )
            return conn.close(code, access.decision.code, access.decision.message)
        if (access.can_post, access.is_moderator, access.role) != (conn.can_post, conn.is_moderator, conn.role):
            self._identify(conn, user, access)
            conn.send_event(
                {"type": "rights", "can_post": conn.can_post, "is_moderator": conn.is_moderator, "role": conn.role}
            )

    async def _handle(self, conn: Connection, message: dict) -> None:
        if _too_large(conn, message):
            return
        text = message.get("text")
        if text is None:
            return conn.error("invalid_frame", "Send JSON text frames.")
        data = _parse(text)
        if not isinstance(data, dict):
            return conn.error("invalid_json", "Each frame must be a JSON object.")
        kind = data.get("type")
        ref = data.get("ref") if isinstance(data.get("ref"), (str, int)) else None
        if kind == "ping":
            return conn.send_event({"type": "pong", "ref": ref})
        if kind == "auth":
            return await self._reauth(conn, data)
        if kind == "message":
            return await self._post(conn, data, ref)
        if kind == "mod":
            return await self._moderate(conn, data, ref)
        return conn.error("unknown_type", "Unknown message type.", ref=ref)

    async def _reauth(self, conn: Connection, data: dict) -> None:
        result = await database_sync_to_async(_validate_token)(data.get("token"))
        if result is None:
            return conn.close(
                protocol.CLOSE_UNAUTHENTICATED, "invalid_token", "The access token is invalid or expired."
            )
        user, payload, session_key = result
        if conn.user_id is not None and user.pk != conn.user_id:
            return conn.close(protocol.CLOSE_UNAUTHENTICATED, "user_changed", "Reconnect to change user.")
        if conn.user_id is None:
            access = await database_sync_to_async(entitlement.chat)(
                viewer=user, username=conn.room, location=locate(conn.ip), age_gate_passed=True
            )
            if not access.decision:
                return conn.close(protocol.CLOSE_FORBIDDEN, access.decision.code, access.decision.message)
            if not (await _take(conn, "user", user.pk) and await _take(conn, "session", session_key)):
                return None
            get_hub().identify(conn, lambda: self._identify(conn, user, access))
        elif not await _take(conn, "session", session_key):
            return None
        conn.expires_at, conn.session_key = payload["exp"], session_key
        conn.send_event(
            {
                "type": "authenticated",
                "user": user.username,
                "expires_at": payload["exp"],
                "can_post": conn.can_post,
                "is_moderator": conn.is_moderator,
            }
        )

    async def _post(self, conn: Connection, data: dict, ref) -> None:
        if not conn.can_post:
            return conn.error("read_only", "Log in to chat.", ref=ref)
        text = data.get("text")
        if not isinstance(text, str):
            return conn.error("invalid", "A message needs a text.", ref=ref)
        result = await database_sync_to_async(services.post_message)(
            user=conn.user, performer=conn.performer, text=text, role=conn.role, is_moderator=conn.is_moderator
        )
        if result.status == "refused":
            conn.error(result.code, result.message, ref=ref)
        elif result.status == "held":
            conn.send_event({"type": "notice", "code": result.code, "message": result.message, "ref": ref})
        else:
            conn.send_event({"type": "ack", "ref": ref, "message_id": result.event_id})

    async def _moderate(self, conn: Connection, data: dict, ref) -> None:
        if not conn.is_moderator:
            return conn.error("forbidden", "Only the performer and the room's moderators can do that.", ref=ref)
        try:
            await database_sync_to_async(_run_mod_action)(conn, data)
        except DomainError as exc:  # the same code/message the API would answer
            return conn.error(exc.code, exc.message, ref=ref)
        except (KeyError, TypeError, ValueError):
            return conn.error("invalid", "Missing or invalid fields for this action.", ref=ref)
        conn.send_event({"type": "ack", "ref": ref})


_TOO_MANY = {"ip": "this address", "user": "this account", "session": "this session"}


async def _take(conn: Connection, kind: str, value) -> bool:
    """A place for this socket under the per-IP/user/session cap, or close it (4429)."""
    if await conn.lease.take(kind, value):
        return True
    conn.close(
        protocol.CLOSE_TOO_MANY,
        "too_many_connections",
        f"Too many chat connections from {_TOO_MANY[kind]}: close some and retry.",
    )
    return False


def _too_large(conn: Connection, message: dict) -> bool:
    """Frames over the protocol's limit close the socket (1009).  The server
    (uvicorn --ws-max-size) refuses them before reading them whole; this is
    the same rule for servers started without that flag."""
    limit = settings.CHAT_MAX_FRAME_BYTES
    text, data = message.get("text"), message.get("bytes")
    size = len(data) if data is not None else 0
    if text is not None:
        # A str of n characters is n to 4n bytes in UTF-8: encode only when unsure.
        size = len(text) if len(text) * 4 <= limit or len(text) > limit else len(text.encode())
    if size <= limit:
        return False
    conn.close(protocol.CLOSE_TOO_LARGE, "frame_too_large", f"Frames are limited to {limit} bytes.")
    return True


def _user_named(username):
    from marquee.accounts.models import User

    user = User.objects.filter(username=str(username)).first()
    if user is None:
        raise services.ChatError("not_found", "No such user.", 404)
    return user


def _run_mod_action(conn: Connection, data: dict) -> None:
    action = data.get("action")
    common = {"actor": conn.user, "performer": conn.performer, "ip": conn.ip}
    if action == "delete":
        services.delete_message(**common, message_id=int(data["message_id"]))
    elif action == "timeout":
        services.timeout_user(
            **common,
            target=_user_named(data["user"]),
            seconds=int(data.get("seconds", 300)),
            reason=str(data.get("reason", ""))[:200],
        )
    elif action == "ban":
        services.ban_user(**common, target=_user_named(data["user"]), reason=str(data.get("reason", ""))[:200])
    elif action == "unban":
        services.lift_restrictions(**common, target=_user_named(data["user"]))
    elif action == "clear":
        services.clear_user_messages(**common, target=_user_named(data["user"]))
    elif action == "slow_mode":
        services.set_slow_mode(**common, seconds=int(data["seconds"]))
    elif action in ("approve", "reject"):
        services.review_held(**common, held_id=int(data["held_id"]), approve=action == "approve")
    else:
        raise services.ChatError("unknown_action", "Unknown moderation action.")


def _parse(text):
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _resume_from(scope) -> int | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("last_id")
    try:
        return int(values[0]) if values else None
    except ValueError:
        return None


class _Budget:
    """Frames a client may send: a token bucket (10/s, bursts of 20; ten
    times that for the performer and moderators, who are not rate-limited
    by the pipeline either); beyond it frames are dropped with at most one
    error per second."""

    rate, burst = 10.0, 20.0

    def __init__(self):
        self.tokens = self.burst
        self.stamp = time.monotonic()
        self.warned = 0.0

    def take(self, *, moderator: bool = False) -> bool:
        now = time.monotonic()
        scale = 10 if moderator else 1
        self.tokens = min(self.burst * scale, self.tokens + (now - self.stamp) * self.rate * scale)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def should_warn(self) -> bool:
        now = time.monotonic()
        if now - self.warned >= 1:
            self.warned = now
            return True
        return False

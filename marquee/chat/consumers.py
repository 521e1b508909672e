"""The room chat WebSocket: ``/ws/rooms/<performer-username>/chat/``.

A thin ASGI WebSocket application rather than a Channels consumer: Channels'
``AsyncConsumer.dispatch`` hops to a worker thread for every delivered
message (to close old DB connections) — 30–53% of a worker's time with 3,000
sockets (DESIGN.md).  Here live events never touch a thread: the hub
(``marquee.chat.hub``) pushes ready-made frames into this socket's bounded buffer and
one writer task drains it (``connection``).  Authentication is in ``socket_auth``,
moderator commands in ``mod_commands``.  Only what the client sends (posts, moderator
actions, auth) goes through a thread, to services.  It still runs behind
Channels' AllowedHostsOriginValidator and AuthMiddlewareStack (asgi.py).
"""

from __future__ import annotations

import asyncio
import random
import time

from channels.db import database_sync_to_async
from django.conf import settings

from marquee.access import selectors as entitlement
from marquee.chat import protocol, services, wire
from marquee.chat.connection import (
    SESSION_ENDED,
    Budget,
    Connection,
    parse_frame,
    resume_from,
    take_place,
    too_large,
)
from marquee.chat.hub import UNKNOWN, get_hub
from marquee.chat.mod_commands import run_mod_action
from marquee.chat.socket_auth import session_user, validate_token
from marquee.compliance.middleware import AGE_GATE_SESSION_KEY
from marquee.lib.clientip import client_ip_from_scope
from marquee.lib.errors import DomainError
from marquee.lib.geo import locate


class ChatSocket:
    async def __call__(self, scope, receive, send):
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        room = scope["url_route"]["kwargs"]["username"]
        conn = Connection(send, room, write_prebuilt=wire.prebuilt_writer(scope))
        conn.ip = client_ip_from_scope(scope)
        hub = get_hub()
        joined = False
        try:
            session = scope.get("session")
            if await take_place(conn, "ip", conn.ip) and await take_place(
                conn, "session", getattr(session, "session_key", None)
            ):
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
            if not (await take_place(conn, "user", user.pk) and await take_place(conn, "session", conn.session_key)):
                return False
            self._identify(conn, user, access)
        conn.performer = access.performer
        resume = conn.resume_override if conn.resume_override is not None else resume_from(scope)
        await hub.join(conn, resume)
        return True

    @staticmethod
    def _identify(conn: Connection, user, access) -> None:
        conn.user, conn.user_id = user, user.pk
        conn.can_post, conn.is_moderator, conn.role = access.can_post, access.is_moderator, access.role
        conn.audience = access.audience

    async def _first_message_auth(self, receive, conn: Connection):
        try:
            message = await asyncio.wait_for(receive(), timeout=settings.CHAT_AUTH_TIMEOUT_SECONDS)
        except TimeoutError:
            conn.close(protocol.CLOSE_UNAUTHENTICATED, "auth_timeout", 'Send {"type": "auth"} first.')
            return None
        if message["type"] != "websocket.receive":
            conn.closed = True
            return None
        if too_large(conn, message):
            return None
        data = parse_frame(message.get("text"))
        if not isinstance(data, dict) or data.get("type") != "auth":
            conn.close(protocol.CLOSE_UNAUTHENTICATED, "auth_required", "Log in: the first message must be auth.")
            return None
        result = await database_sync_to_async(validate_token)(data.get("token"))
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
        budget = Budget()
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
        user = await database_sync_to_async(session_user)(conn.session_key)
        if conn.closed:
            return
        if user is None or user.pk != conn.user_id:
            return conn.close(protocol.CLOSE_UNAUTHENTICATED, "session_ended", SESSION_ENDED["session_ended"])
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
        now = (access.can_post, access.is_moderator, access.role, access.audience)
        if now != (conn.can_post, conn.is_moderator, conn.role, conn.audience):
            self._identify(conn, user, access)
            conn.send_event(
                {
                    "type": "rights",
                    "can_post": conn.can_post,
                    "is_moderator": conn.is_moderator,
                    "role": conn.role,
                    "private": conn.audience is not None,
                }
            )

    async def _handle(self, conn: Connection, message: dict) -> None:
        if too_large(conn, message):
            return
        text = message.get("text")
        if text is None:
            return conn.error("invalid_frame", "Send JSON text frames.")
        data = parse_frame(text)
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
        result = await database_sync_to_async(validate_token)(data.get("token"))
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
            if not (await take_place(conn, "user", user.pk) and await take_place(conn, "session", session_key)):
                return None
            get_hub().identify(conn, lambda: self._identify(conn, user, access))
        elif not await take_place(conn, "session", session_key):
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
        hub = get_hub()
        version, known = hub.private_state(conn.room)
        result, private = await database_sync_to_async(_post_now)(conn, text, known)
        if known is UNKNOWN:
            hub.remember_private(conn.room, version, private)
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
            await database_sync_to_async(run_mod_action)(conn, data)
        except DomainError as exc:  # the same code/message the API would answer
            return conn.error(exc.code, exc.message, ref=ref)
        except (KeyError, TypeError, ValueError):
            return conn.error("invalid", "Missing or invalid fields for this action.", ref=ref)
        conn.send_event({"type": "ack", "ref": ref})


def _post_now(conn: Connection, text: str, private=UNKNOWN):
    """Post to the chat the room has now: the public one, or the running
    private's if the author talks in it (``access`` decides, at each post,
    from the room's private state as the hub knows it; asked here if it
    doesn't).  Returns (result, the private state used)."""
    if private is UNKNOWN:
        private = entitlement.chat_room_state(conn.performer)
    audience = entitlement.chat_post_audience(conn.user, conn.performer, room=private)
    if audience is None:
        return services.PostResult("refused", "private_show", "Only those in the private show talk now."), private
    result = services.post_message(
        user=conn.user,
        performer=conn.performer,
        text=text,
        role=conn.role,
        is_moderator=conn.is_moderator,
        audience=audience,
    )
    return result, private

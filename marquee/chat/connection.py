"""One chat socket's state: its bounded outgoing buffer and writer task,
the frames a client may send (budget, size limit, per-IP/user/session cap),
and the hello/close frames it answers with."""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from urllib.parse import parse_qs

from django.conf import settings

from marquee.chat import limits, protocol
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

    ``write_prebuilt`` (the server's ``marquee.prebuilt_frames`` extension,
    ``chat.wire``, or None) writes a frame the hub encoded once for the room
    in place of that ``send``, when nothing is queued and the server says
    the write is the one ``send`` would make.
    """

    def __init__(self, send, room: str, write_prebuilt=None):
        self._send = send
        self._write_prebuilt = write_prebuilt
        self.room = room
        self.user = None
        self.user_id = None
        self.session_key = None
        self.can_post = False
        self.is_moderator = False
        self.role = "viewer"
        self.audience = None  # the private chat it reads besides the public one (access.chat)
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

    def push(self, frame: str, wire: bytes | None = None) -> None:
        """Send ``frame``; ``wire`` is the same frame as ``chat.wire.text_frame``
        encoded it (shared by the room's sockets)."""
        if self.closed:
            return
        if self.driver is None and not self._out:
            if wire is not None and self._write_prebuilt is not None:
                try:
                    if self._write_prebuilt(wire):
                        return
                except Exception:
                    self._gone()
                    return
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
                protocol.CLOSE_UNAUTHENTICATED, reason, SESSION_ENDED.get(reason, SESSION_ENDED["session_ended"])
            )
        elif kind == "kick" and event.get("room") in (None, self.room):
            self.close(protocol.CLOSE_FORBIDDEN, "banned", "You were banned from this chat.")
        elif kind == "rights_changed" and self.performer is not None and event.get("performer_id") == self.performer.pk:
            self.recheck.set()
        elif kind == "room_push" and event.get("room") == self.room:
            self.send_event(event["event"])  # a private show's event for this user only (privates.push)


SESSION_ENDED = {
    "logged_out": "You logged out.",
    "session_ended": "This session was ended: log in again.",
    "session_revoked": "This session was revoked: log in again.",
}


_TOO_MANY = {"ip": "this address", "user": "this account", "session": "this session"}


async def take_place(conn: Connection, kind: str, value) -> bool:
    """A place for this socket under the per-IP/user/session cap, or close it (4429)."""
    if await conn.lease.take(kind, value):
        return True
    conn.close(
        protocol.CLOSE_TOO_MANY,
        "too_many_connections",
        f"Too many chat connections from {_TOO_MANY[kind]}: close some and retry.",
    )
    return False


def too_large(conn: Connection, message: dict) -> bool:
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


def parse_frame(text):
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def resume_from(scope) -> int | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("last_id")
    try:
        return int(values[0]) if values else None
    except ValueError:
        return None


class Budget:
    """Frames a client may send: a token bucket (CHAT_FRAMES_PER_SECOND,
    bursts of CHAT_FRAME_BURST; CHAT_MODERATOR_FRAME_FACTOR times that for
    the performer and moderators); beyond it frames are dropped with at most
    one error per second."""

    def __init__(self):
        self.rate = float(settings.CHAT_FRAMES_PER_SECOND)
        self.burst = float(settings.CHAT_FRAME_BURST)
        self.moderator_factor = settings.CHAT_MODERATOR_FRAME_FACTOR
        self.tokens = self.burst
        self.stamp = time.monotonic()
        self.warned = 0.0

    def take(self, *, moderator: bool = False) -> bool:
        now = time.monotonic()
        scale = self.moderator_factor if moderator else 1
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

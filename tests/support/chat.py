"""Chat test helpers: a WebSocket client speaking the chat protocol, a
session cookie for a user, and running async scenarios from sync tests."""

from __future__ import annotations

import asyncio
import json

from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator


def run(coro_fn, *args, **kwargs):
    """Run an async scenario from a sync test (no pytest-asyncio here)."""
    return async_to_sync(coro_fn)(*args, **kwargs)


def session_cookie(user) -> bytes:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


class Socket:
    """A WebSocket test client speaking the chat protocol (frames are arrays)."""

    def __init__(
        self,
        room: str,
        *,
        cookie: bytes | None = None,
        query: str = "",
        origin=b"http://testserver",
        client_ip: str | None = None,
    ):
        from marquee.asgi import application

        headers = [(b"host", b"testserver")]
        if origin:
            headers.append((b"origin", origin))
        if cookie:
            headers.append((b"cookie", cookie))
        path = f"/ws/rooms/{room}/chat/" + (f"?{query}" if query else "")
        self.comm = WebsocketCommunicator(application, path, headers=headers)
        if client_ip:
            self.comm.scope["client"] = (client_ip, 40000)
        self.buffer: list[dict] = []
        self.close_code = None

    async def connect(self):
        connected, _ = await self.comm.connect(timeout=5)
        return connected

    async def send(self, payload):
        await self.comm.send_to(text_data=payload if isinstance(payload, str) else json.dumps(payload))

    async def _next_frame(self, timeout):
        output = await self.comm.receive_output(timeout)
        if output["type"] == "websocket.close":
            self.close_code = output.get("code")
            return None
        return json.loads(output["text"])

    async def until(self, predicate, timeout=3.0) -> dict:
        """The first event (buffered or new) matching ``predicate``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for i, event in enumerate(self.buffer):
                if predicate(event):
                    return self.buffer.pop(i)
            remaining = deadline - loop.time()
            if remaining <= 0 or self.close_code is not None:
                raise AssertionError(f"no matching event; got {self.buffer} close={self.close_code}")
            try:
                frame = await self._next_frame(remaining)
            except TimeoutError:
                raise AssertionError(f"no matching event; got {self.buffer} close={self.close_code}")
            if frame is None:
                continue
            assert isinstance(frame, list)
            self.buffer.extend(frame)

    async def event(self, kind, timeout=3.0, **fields) -> dict:
        return await self.until(
            lambda e: e.get("type") == kind and all(e.get(k) == v for k, v in fields.items()), timeout
        )

    async def closed(self, timeout=3.0) -> int:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.close_code is None:
            frame = await self._next_frame(max(0.01, deadline - loop.time()))
            if frame:
                self.buffer.extend(frame)
        return self.close_code

    async def drain(self, wait=0.15) -> list[dict]:
        """Everything that arrives within ``wait`` seconds (receive_nothing
        does not cancel the application the way a receive timeout does)."""
        while self.close_code is None and not await self.comm.receive_nothing(timeout=wait):
            frame = await self._next_frame(1)
            if frame:
                self.buffer.extend(frame)
        events, self.buffer = self.buffer, []
        return events

    async def disconnect(self):
        try:
            await self.comm.disconnect()
        except Exception:
            pass

"""Frames the hub encodes once for a room (``chat.wire``): each socket gets
what the ordinary ASGI ``send`` would have written, in order, and the
deployment serves chat with that protocol."""

from __future__ import annotations

import asyncio
import json
import shlex
import socket
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from rest_framework.test import APIClient

from marquee.chat import services, wire
from marquee.chat.connection import Connection
from tests.factories import PASSWORD
from tests.support.chat import run

ROOT = Path(__file__).resolve().parents[3]


def test_the_procfile_serves_chat_with_the_prebuilt_frame_protocol():
    web = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    args = shlex.split(web.partition(":")[2])
    assert args[args.index("--ws") + 1] == "marquee.chat.wire:FanoutWebSocketProtocol"
    # Browsers offer per-message deflate: negotiated, every socket would take
    # the per-socket compressing send instead of the prebuilt frame.
    assert args[args.index("--ws-per-message-deflate") + 1] == "false"


def test_text_frame_is_what_the_websocket_protocol_sends():
    from websockets.server import ServerProtocol

    server = ServerProtocol()
    server.state = server.state.OPEN
    for payload in ('[{"id":1}]', "é" * 200, "x" * 70_000):
        server.send_text(payload.encode())
        assert wire.text_frame(payload) == b"".join(server.data_to_send())


def test_prebuilt_writes_never_overtake_a_send_that_waits():
    """A socket whose send had to wait (its transport paused) queues what
    follows, prebuilt or not, and sends it in order; only once that send is
    done does a prebuilt write go straight out."""

    async def scenario():
        release = asyncio.Event()
        order = []
        writable = [False]

        async def send(message):
            order.append(("send", message["text"]))
            if len(order) == 1:
                await release.wait()

        def write(frame):
            if not writable[0]:
                return False
            order.append(("write", frame))
            return True

        conn = Connection(send, "room", write_prebuilt=write)
        conn.push("a", b"A")  # paused: the ordinary send, which waits
        writable[0] = True
        conn.push("b", b"B")  # writable again, but "a" is still on its way
        conn.push("c")
        assert order == [("send", "a")]
        release.set()
        await conn.driver
        conn.push("d", b"D")
        assert order == [("send", "a"), ("send", "b"), ("send", "c"), ("write", b"D")]

        def broken(frame):
            raise ConnectionResetError

        gone = Connection(send, "room", write_prebuilt=broken)
        gone.push("e", b"E")
        assert gone.closed and gone.done.done()

    run(scenario)


def app_login(user) -> str:
    response = APIClient().post(
        "/_allauth/app/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["meta"]["access_token"]


@pytest.fixture
def fanout_server(monkeypatch):
    """The ASGI app on a real uvicorn (in a thread) with the Procfile's
    protocol; counts the prebuilt writes it made and refused."""
    import uvicorn

    from marquee.asgi import application

    writes = Counter()
    original = wire.FanoutWebSocketProtocol.write_prebuilt

    def counting(self, frame):
        written = original(self, frame)
        writes[written] += 1
        return written

    monkeypatch.setattr(wire.FanoutWebSocketProtocol, "write_prebuilt", counting)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        application,
        host="127.0.0.1",
        port=port,
        ws="marquee.chat.wire:FanoutWebSocketProtocol",
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
    yield f"ws://127.0.0.1:{port}/ws/rooms/performer/chat/", writes
    server.should_exit = True
    thread.join(10)


@pytest.mark.django_db(transaction=True)
def test_every_socket_gets_every_message_once_in_order_with_or_without_compression(
    fanout_server, viewer, outsider, performer
):
    """Two plain sockets get the room's frames as prebuilt writes; one that
    negotiated per-message deflate gets the same messages through send."""
    from websockets.asyncio.client import connect

    url, writes = fanout_server
    tokens = [app_login(viewer), app_login(outsider), app_login(viewer)]
    texts = [f"hello number {i}" for i in range(30)]

    async def reader(token, compression, ready):
        async with connect(url, origin=None, compression=compression) as ws:
            await ws.send(json.dumps({"type": "auth", "token": token}))
            got = []
            async with asyncio.timeout(15):
                while len(got) < len(texts):
                    for event in json.loads(await ws.recv()):
                        if event.get("type") == "hello":
                            ready.release()
                        elif event.get("type") == "message":
                            got.append(event["text"])
            return got, ws.response.headers.get("Sec-WebSocket-Extensions")

    async def scenario():
        ready = asyncio.Semaphore(0)
        readers = [
            asyncio.create_task(reader(token, compression, ready))
            for token, compression in zip(tokens, (None, None, "deflate"), strict=True)
        ]
        for _ in readers:
            await asyncio.wait_for(ready.acquire(), 15)
        for text in texts:
            await sync_to_async(services.post_message)(
                user=performer.user, performer=performer, text=text, role="performer", is_moderator=True
            )
        return await asyncio.gather(*readers)

    results = asyncio.run(scenario())
    assert [got for got, _ in results] == [texts, texts, texts]
    assert [extensions is not None for _, extensions in results] == [False, False, True]
    assert writes[True] >= 2  # the plain sockets' frames went out prebuilt ...
    assert writes[False] >= 1  # ... and the compressed one's through send

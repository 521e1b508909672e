"""The limit for bench/chat_fanout: the leanest fan-out server we can write
in Python on this machine, a stand-in for what any Python server could do
here with the same viewers, rate and batching.

One process, plain asyncio on uvloop (as uvicorn runs the app), no Django,
database or Redis.  The WebSocket protocol by hand (RFC 6455): the
handshake, masked client frames (text, ping → pong, close), unmasked server
frames.  Per room (the request path) the app's batching rule: the first
post of a batch starts a ``CHAT_BATCH_WINDOW_MS`` timer (from the
environment, default 100, as marquee/settings.py); then one JSON array frame
is built once and written with one ``transport.write`` to every socket of the
room.  The frames look like the app's (a hello array on join, message events
with an id, user, role, text and ts; an ack to the poster) so the viewers'
parse cost is the same.  ``?last_id=N`` resumes after N, as the app.

    python bench/chat_fanout/limit_server.py --port 8765
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.support import raise_fd_limit  # noqa: E402

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
WINDOW = max(0, min(1000, int(os.environ.get("CHAT_BATCH_WINDOW_MS") or 100))) / 1000
JOIN_MESSAGES = 50  # CHAT_JOIN_MESSAGES: what a fresh join gets from history
RING = 1000  # events kept per room for a resume


def dumps(event: dict) -> str:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def server_frame(payload: bytes, opcode: int = 1) -> bytes:
    """One unmasked, unfragmented frame."""
    size = len(payload)
    if size < 126:
        head = bytes((0x80 | opcode, size))
    elif size < 65536:
        head = bytes((0x80 | opcode, 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 127)) + size.to_bytes(8, "big")
    return head + payload


def frame_extent(buf, pos: int, size: int) -> tuple[int, int] | None:
    """The payload length of the frame at ``pos`` and where its mask or payload
    starts, or None while its header is incomplete (RFC 6455, 5.2)."""
    length, start = buf[pos + 1] & 0x7F, pos + 2
    if length == 126:
        if size - pos < 4:
            return None
        length, start = int.from_bytes(buf[pos + 2 : pos + 4], "big"), pos + 4
    elif length == 127:
        if size - pos < 10:
            return None
        length, start = int.from_bytes(buf[pos + 2 : pos + 10], "big"), pos + 10
    return length, start


class Room:
    def __init__(self, name: str):
        self.name = name
        self.readers: set[asyncio.Transport] = set()
        self.seq = 0
        self.flushed: list[tuple[int, str]] = []  # (id, raw event) already sent
        self.batch: list[tuple[int, str]] = []
        self.timer: asyncio.TimerHandle | None = None

    def hello(self, last_id: int | None) -> bytes:
        """Hello and history (a fresh join) or what came after ``last_id``
        (a resume); what is in the open batch comes with its flush."""
        flushed_id = self.flushed[-1][0] if self.flushed else 0
        if last_id is None:
            events = [raw for _, raw in self.flushed[-JOIN_MESSAGES:]]
        else:
            events = [raw for seq, raw in self.flushed if seq > last_id]
        hello = {
            "type": "hello",
            "room": self.name,
            "user": None,
            "role": None,
            "can_post": False,
            "is_moderator": False,
            "last_id": flushed_id,
            "reset": False,
            "viewers": len(self.readers) + 1,
        }
        return server_frame(("[" + ",".join([dumps(hello), *events]) + "]").encode())

    def post(self, text: str) -> int:
        self.seq += 1
        event = {
            "type": "message",
            "user": self.name,
            "role": "performer",
            "text": text,
            "ts": datetime.now(UTC).isoformat(),
        }
        self.batch.append((self.seq, f'{{"id":{self.seq},' + dumps(event)[1:]))
        if WINDOW <= 0:
            self.flush()
        elif self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(WINDOW, self.flush)
        return self.seq

    def flush(self) -> None:
        self.timer = None
        batch, self.batch = self.batch, []
        if not batch:
            return
        wire = server_frame(("[" + ",".join(raw for _, raw in batch) + "]").encode())  # built once
        for transport in self.readers:
            transport.write(wire)
        self.flushed.extend(batch)
        del self.flushed[:-RING]


class Connection(asyncio.Protocol):
    def __init__(self, rooms: dict[str, Room]):
        self.rooms = rooms
        self.buffer = bytearray()
        self.room: Room | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        if self.room is not None:
            self.room.readers.discard(self.transport)

    def data_received(self, data):
        buf = self.buffer
        buf += data
        if self.room is None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > 65536:
                    self.transport.close()
                return
            head = bytes(buf[:end])
            del buf[: end + 4]
            if not self.handshake(head):
                return
        self.read_frames()

    def handshake(self, head: bytes) -> bool:
        lines = head.decode("latin-1").split("\r\n")
        target = lines[0].split(" ")[1] if lines[0].count(" ") >= 2 else "/"
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        key = headers.get("sec-websocket-key")
        if not key or headers.get("upgrade", "").lower() != "websocket":
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            self.transport.close()
            return False
        accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        path, _, query = target.partition("?")
        last_id = parse_qs(query).get("last_id", [None])[0]
        room = self.rooms.get(path)
        if room is None:
            room = self.rooms[path] = Room(path.strip("/").split("/")[-2] if path.count("/") > 2 else path)
        self.transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept.encode() + b"\r\n\r\n" + room.hello(int(last_id) if last_id else None)
        )
        self.room = room
        room.readers.add(self.transport)
        return True

    def read_frames(self) -> None:
        buf = self.buffer
        size, pos = len(buf), 0
        while size - pos >= 2:
            head, second = buf[pos], buf[pos + 1]
            extent = frame_extent(buf, pos, size)
            if extent is None:
                break
            length, start = extent
            masked = second & 0x80
            if size < start + (4 if masked else 0) + length:
                break
            if masked:
                mask, start = bytes(buf[start : start + 4]), start + 4
                data = int.from_bytes(buf[start : start + length], "big")
                key = int.from_bytes((mask * (length // 4 + 1))[:length], "big")
                payload = (data ^ key).to_bytes(length, "big")
            else:
                payload = bytes(buf[start : start + length])
            pos = start + length
            opcode = head & 0x0F
            if not head & 0x80 or opcode == 0:  # fragmented: the clients never send them
                self.close(1003)
                break
            if opcode == 1:
                self.on_text(payload)
            elif opcode == 9:
                self.transport.write(server_frame(payload, opcode=10))
            elif opcode == 8:
                self.close(int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1000)
                break
        del buf[:pos]

    def on_text(self, payload: bytes) -> None:
        try:
            data = json.loads(payload)
        except ValueError:
            return
        if isinstance(data, dict) and data.get("type") == "message" and isinstance(data.get("text"), str):
            seq = self.room.post(data["text"])
            ack = {"type": "ack", "ref": data.get("ref"), "message_id": seq}
            self.transport.write(server_frame(("[" + dumps(ack) + "]").encode()))

    def close(self, code: int) -> None:
        if self.room is not None:
            self.room.readers.discard(self.transport)
        self.transport.write(server_frame(code.to_bytes(2, "big"), opcode=8))
        self.transport.close()


async def serve(host: str, port: int) -> None:
    rooms: dict[str, Room] = {}
    server = await asyncio.get_running_loop().create_server(lambda: Connection(rooms), host, port, backlog=8192)
    async with server:
        await server.serve_forever()


def main() -> None:
    import uvloop

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    raise_fd_limit()
    uvloop.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()

"""uvicorn's WebSocket protocol (``websockets-sansio``) plus one ASGI
extension: write a frame the hub serialized once for the whole room.

The hub sends the same text frame to every socket of a room.  Through ASGI
``send`` each socket pays for a message dict, three coroutines (Channels'
session wrapper, uvicorn's ``send``, its ``writable.wait()``), re-encoding
the text and building the WebSocket frame: ~10 µs of the ~11 µs of server
CPU per delivery measured in ``bench/chat_fanout``.  With this protocol
(``uvicorn --ws marquee.chat.wire:FanoutWebSocketProtocol``, the Procfile's)
the hub encodes the frame once per batch and each socket's share is one
``transport.write``.

The extension is offered only where that write is exactly what ``send``
would have written: no extension negotiated (per-message deflate
compresses per socket), handshake done, no close sent or received, and the
transport not paused (a paused socket takes the ordinary ``send``, which
waits; ``Connection`` keeps its order and its bound).  Servers without it
(tests, another ASGI server) use ``send``.
"""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State

EXTENSION = "marquee.prebuilt_frames"


def text_frame(payload: str) -> bytes:
    """One unmasked, unfragmented, uncompressed text frame (a server's)."""
    return Frame(Opcode.TEXT, payload.encode()).serialize(mask=False)


def prebuilt_writer(scope):
    """The connection's ``write_prebuilt``, or None when the server has no such extension."""
    extension = scope.get("extensions", {}).get(EXTENSION)
    return extension["write"] if extension else None


class FanoutWebSocketProtocol(WebSocketsSansIOProtocol):
    def handle_connect(self, event) -> None:
        super().handle_connect(event)
        # The ASGI task is created but has not run yet: the scope can still gain the extension.
        if getattr(self, "scope", None) is not None and self.handshake_initiated and not self.close_sent:
            self.scope["extensions"][EXTENSION] = {"write": self.write_prebuilt}

    def write_prebuilt(self, frame: bytes) -> bool:
        """Write ``frame`` (from ``text_frame``) now, as ``send`` would, or
        return False (the caller then uses ``send``)."""
        if (
            self.close_sent
            or self.disconnected
            or not self.handshake_complete
            or not self.writable.is_set()
            or self.conn.extensions
            or self.conn.state is not State.OPEN
        ):
            return False
        self.transport.write(frame)
        return True

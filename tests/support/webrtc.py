"""A WebRTC client for tests (aiortc, on its own loop thread): makes WHEP
(receive) and WHIP (send) offers, applies answers, reads frames."""

from __future__ import annotations

import asyncio
import threading

import pytest


@pytest.fixture
def loopback_ice(monkeypatch):
    """ICE host candidates on 127.0.0.1 only (aioice skips loopback by
    default): test traffic stays on loopback, and gathering is quick."""
    import aioice.ice

    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


class PeerClient:
    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="test-webrtc", daemon=True)
        self.thread.start()
        self.pc = None
        self.tracks: dict = {}

    def run(self, coroutine, timeout=20):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def offer(self, *, receive=("video",), send_video=False) -> str:
        """An SDP offer with every candidate in it (aiortc takes no trickle)."""

        async def make():
            from aiortc import RTCConfiguration, RTCPeerConnection
            from aiortc.mediastreams import VideoStreamTrack

            self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            self.pc.on("track", lambda track: self.tracks.setdefault(track.kind, track))
            for kind in receive:
                self.pc.addTransceiver(kind, direction="recvonly")
            if send_video:
                self.pc.addTransceiver(VideoStreamTrack(), direction="sendonly")
            await self.pc.setLocalDescription(await self.pc.createOffer())
            return self.pc.localDescription.sdp

        return self.run(make())

    def answer(self, sdp: str) -> None:
        from aiortc import RTCSessionDescription

        self.run(self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer")))

    def frame(self, kind="video", timeout=15):
        async def read():
            return await asyncio.wait_for(self.tracks[kind].recv(), timeout)

        return self.run(read(), timeout + 5)

    def state(self) -> str:
        return self.pc.connectionState

    def close(self) -> None:
        if self.pc is not None:
            self.run(self.pc.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

"""WebRTC for private shows: WHEP egress (RFC 9725 style) of the show to its
payer and the performer's preview, and cam2cam (the payer's camera, WHIP in,
WHEP out to the performer only).  This module only moves frames: who may
open a peer is ``access``'s answer, asked by the API before calling here.

Sources of the show, in order:
1. the performer went live by WHIP: the relay's incoming tracks, fanned out
   (no decode/encode round trip through RTMP);
2. otherwise one decode of the RTMP stream (``MEDIA_WEBRTC_SOURCE_URL``,
   nginx-rtmp's loopback-only play), shared by every peer watching it.
Each peer re-encodes for its browser (aiortc's VP8/H.264 encoders).

Peers live on the WHIP relay's asyncio loop (aiortc objects must stay on
one loop and the WHIP tracks are there), in this web process: one media
node or sticky sessions, as for WHIP (docs/operations.md).  A peer is tagged
with its private session; ``close_tag`` ends every peer of a private at
once (the private's end event, ``privates.webrtc``), and each peer re-asks
``recheck`` (the same access rule) every ``MEDIA_WEBRTC_RECHECK_SECONDS``,
so a private ended in another process (the billing worker) or a ban still
closes it within seconds.  cam2cam frames are never written anywhere: they
go from one peer connection to another and nowhere else."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from marquee.shows.whip_relay import (
    CLOSE_TIMEOUT_SECONDS,
    OPEN_TIMEOUT_SECONDS,
    RelayError,
    answer_offer,
    close_peer,
    peer_connection,
)
from marquee.shows.whip_relay import relay as whip

log = logging.getLogger(__name__)

WATCH = "watch"  # the show, to its payer or the performer (WHEP)
CAMERA_IN = "camera_in"  # the payer's camera (WHIP)
CAMERA_OUT = "camera_out"  # that camera, to the performer (WHEP)


def player_options() -> dict:
    """Low-delay demuxing of a live FLV stream: no input buffer, a short probe."""
    return {"fflags": "nobuffer", "flags": "low_delay", "probesize": "32768", "analyzeduration": "500000"}


@dataclass
class Peer:
    id: str
    user_id: int
    tag: int  # the private session
    role: str
    pc: object
    recheck: Callable[[], bool] | None = None
    source: str | None = None  # the shared RTMP decode this peer holds, if any
    fanout: object = None  # CAMERA_IN: fans the camera out to the performer's peer
    incoming: dict = field(default_factory=dict)
    outgoing: list = field(default_factory=list)
    tasks: list = field(default_factory=list)
    closed: bool = False
    torn_down: threading.Event = field(default_factory=threading.Event)


@dataclass
class _Decode:
    """One RTMP decode shared by the peers watching that stream."""

    player: object
    fanout: object
    users: int = 0


class Egress:
    def __init__(self):
        self.peers: dict[str, Peer] = {}
        self._decodes: dict[str, _Decode] = {}
        self._decode_lock: asyncio.Lock | None = None

    # --- thread-safe entry points (API views, event receivers) ---------------
    def peers_of(self, tag: int, role: str | None = None) -> list[Peer]:
        return [p for p in list(self.peers.values()) if p.tag == tag and (role is None or p.role == role)]

    def watch(
        self, *, offer_sdp: str, user_id: int, tag: int, stream: str, performer_user_id: int, recheck=None
    ) -> tuple[str, str]:
        """(peer id, SDP answer) of a peer sending the show to this viewer."""
        return whip._run(
            self._open(offer_sdp, user_id, tag, WATCH, recheck, stream=stream, performer_user_id=performer_user_id),
            OPEN_TIMEOUT_SECONDS,
        )

    def receive_camera(self, *, offer_sdp: str, user_id: int, tag: int, recheck=None) -> tuple[str, str]:
        """(peer id, SDP answer) of a peer receiving the payer's camera."""
        return whip._run(self._open(offer_sdp, user_id, tag, CAMERA_IN, recheck), OPEN_TIMEOUT_SECONDS)

    def send_camera(self, *, offer_sdp: str, user_id: int, tag: int, recheck=None) -> tuple[str, str]:
        """(peer id, SDP answer) of a peer sending the payer's camera to the performer."""
        return whip._run(self._open(offer_sdp, user_id, tag, CAMERA_OUT, recheck), OPEN_TIMEOUT_SECONDS)

    def close(self, peer_id: str) -> None:
        whip._run(self._close(peer_id), CLOSE_TIMEOUT_SECONDS)

    def close_tag(self, tag: int) -> int:
        """End every peer of one private at once; how many there were."""
        peers = self.peers_of(tag)
        for peer in peers:
            with contextlib.suppress(Exception):
                self.close(peer.id)
        return len(peers)

    def shutdown(self) -> None:
        for peer_id in list(self.peers):
            with contextlib.suppress(Exception):
                self.close(peer_id)

    # --- on the relay loop ------------------------------------------------------
    async def _open(self, offer_sdp, user_id, tag, role, recheck, *, stream=None, performer_user_id=None):
        if role == CAMERA_IN and self.peers_of(tag, CAMERA_IN):
            raise RelayError("camera_busy", "A camera is already being sent in this show.")
        peer_id = secrets.token_urlsafe(18)
        pc = peer_connection(lambda: self._close(peer_id))
        peer = Peer(id=peer_id, user_id=user_id, tag=tag, role=role, pc=pc, recheck=recheck)
        pc.on("track", lambda track: peer.incoming.setdefault(track.kind, track))

        async def prepare():
            kinds = {t.kind for t in pc.getTransceivers()}
            if "video" not in kinds:
                raise RelayError("no_video", "The offer must have a video track.")
            if role == CAMERA_IN:
                if "video" not in peer.incoming:
                    raise RelayError("no_video", "The offer must send a video track.")
                return
            for track in await self._sources(peer, stream, performer_user_id):
                if track.kind in kinds:
                    peer.outgoing.append(track)
                    pc.addTrack(track)
                else:
                    track.stop()

        answer = await answer_offer(pc, offer_sdp, prepare, cleanup=lambda: self._release(peer))
        self.peers[peer.id] = peer
        if role == CAMERA_IN:
            self._fan_out_camera(peer)
        if recheck is not None:
            peer.tasks.append(asyncio.ensure_future(self._recheck(peer)))
        return peer.id, answer

    async def _sources(self, peer: Peer, stream, performer_user_id) -> list:
        """Tracks for a new WATCH or CAMERA_OUT peer (unbuffered: a slow
        peer skips frames rather than falling behind)."""
        if peer.role == CAMERA_OUT:
            cameras = self.peers_of(peer.tag, CAMERA_IN)
            if not cameras or cameras[0].fanout is None:
                raise RelayError("no_camera", "The viewer is not sending a camera.")
            camera = cameras[0]
            return [camera.fanout.subscribe(t, buffered=False) for t in camera.incoming.values()]
        live = whip.session_of(performer_user_id)
        if live is not None and live.fanout is not None:
            return [live.fanout.subscribe(t, buffered=False) for t in live.tracks.values()]
        decode = await self._decode(stream)
        peer.source = stream
        tracks = [decode.player.video, decode.player.audio]
        return [decode.fanout.subscribe(t, buffered=False) for t in tracks if t is not None]

    async def _decode(self, stream: str) -> _Decode:
        from aiortc.contrib.media import MediaPlayer, MediaRelay

        if self._decode_lock is None:
            self._decode_lock = asyncio.Lock()
        async with self._decode_lock:
            decode = self._decodes.get(stream)
            if decode is None:
                url = f"{settings.MEDIA_WEBRTC_SOURCE_URL}/{stream}"

                def open_player():
                    return MediaPlayer(url, format="flv", options=player_options(), timeout=OPEN_TIMEOUT_SECONDS)

                try:
                    player = await asyncio.get_running_loop().run_in_executor(None, open_player)
                except Exception as exc:  # av raises its own errors for a missing stream
                    raise RelayError("no_stream", "The show's stream could not be opened.") from exc
                if player.video is None:
                    raise RelayError("no_stream", "The show's stream has no video.")
                if "://" in url:
                    # Live input: hand frames on as they arrive (aiortc would pace
                    # them by their timestamps, keeping any start-up backlog as delay).
                    player._throttle_playback = False
                decode = self._decodes[stream] = _Decode(player=player, fanout=MediaRelay())
            decode.users += 1
            return decode

    def _fan_out_camera(self, peer: Peer) -> None:
        """Drain the camera continuously (else aiortc queues every frame
        until the performer looks); the performer's peer subscribes to it."""
        from aiortc.contrib.media import MediaRelay
        from aiortc.mediastreams import MediaStreamError

        peer.fanout = MediaRelay()

        async def drain(track):
            with contextlib.suppress(MediaStreamError):
                while True:
                    await track.recv()

        for track in peer.incoming.values():
            peer.tasks.append(asyncio.ensure_future(drain(peer.fanout.subscribe(track, buffered=False))))

    async def _recheck(self, peer: Peer) -> None:
        from django.db import close_old_connections

        def ask() -> bool:
            try:
                return bool(peer.recheck())
            except Exception:  # a database hiccup does not cut a paid show; the end event still does
                log.exception("WebRTC recheck failed for peer %s", peer.id)
                return True
            finally:
                close_old_connections()

        loop = asyncio.get_running_loop()
        while not peer.closed:
            await asyncio.sleep(settings.MEDIA_WEBRTC_RECHECK_SECONDS)
            if not await loop.run_in_executor(None, ask):
                await self._close(peer.id)
                return

    async def _release(self, peer: Peer) -> None:
        for track in peer.outgoing:
            track.stop()
        if peer.source is None:
            return
        stream, peer.source = peer.source, None
        decode = self._decodes.get(stream)
        if decode is None:
            return
        decode.users -= 1
        if decode.users <= 0:
            del self._decodes[stream]
            # Stopping the player's tracks joins its demux thread: off the loop.
            tracks = [t for t in (decode.player.video, decode.player.audio) if t is not None]
            await asyncio.get_running_loop().run_in_executor(None, lambda: [t.stop() for t in tracks])

    async def _close(self, peer_id: str) -> None:
        peer = await close_peer(self.peers, peer_id)
        if peer is None:
            return
        await self._release(peer)
        if peer.role == CAMERA_IN:
            # The performer's view of this camera goes with it.
            for other in self.peers_of(peer.tag, CAMERA_OUT):
                await self._close(other.id)
        peer.torn_down.set()


egress = Egress()

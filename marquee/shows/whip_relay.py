"""WHIP ingest (RFC 9725): a browser's camera and microphone arrive over
WebRTC (aiortc) and are handed to the SAME RTMP ingest as OBS, through an
ffmpeg subprocess publishing FLV to nginx-rtmp with a one-off ingest
credential.  Keys, hooks, HLS, ladder, thumbnails and every rule stay on the
one path; this module only moves frames.

The peers live in this web process, on one asyncio loop in a daemon thread
(aiortc is asyncio; the loop outlives any request, under ASGI or WSGI), so a
session's DELETE must reach the same process: one media node, or sticky
sessions (docs/operations.md).  Torn down on DELETE, on ICE failure, when
ffmpeg exits (publish refused or cut by the hook) and at process exit."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import queue
import secrets
import subprocess
import threading
from dataclasses import dataclass, field

from django.conf import settings

log = logging.getLogger(__name__)

# Frames waiting for ffmpeg before new ones are dropped (no growing latency).
PIPE_QUEUE_FRAMES = 8
OPEN_TIMEOUT_SECONDS = 15
CLOSE_TIMEOUT_SECONDS = 10


class RelayError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def peer_connection(on_gone):
    """A server-side aiortc peer (host candidates only: no third-party STUN
    lookups from the server); ``on_gone()`` is awaited when ICE fails or the
    connection closes.  WHIP ingest and WHEP egress open theirs here."""
    from aiortc import RTCConfiguration, RTCPeerConnection

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))

    @pc.on("connectionstatechange")
    async def _state():
        if pc.connectionState in ("failed", "closed"):
            await on_gone()

    return pc


async def answer_offer(pc, offer_sdp: str, prepare, *, cleanup=None) -> str:
    """Apply the SDP offer, let ``prepare()`` check it and add tracks (a
    RelayError refuses), and return the SDP answer.  On any failure the peer
    is closed (after ``cleanup()``); aiortc's own errors on a malformed offer
    (ValueError and friends) become ``bad_offer``."""
    from aiortc import RTCSessionDescription

    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        await prepare()
        await pc.setLocalDescription(await pc.createAnswer())
    except Exception as exc:
        if cleanup is not None:
            await cleanup()
        with contextlib.suppress(Exception):
            await pc.close()
        if isinstance(exc, RelayError):
            raise
        raise RelayError("bad_offer", "The SDP offer could not be used.") from exc
    return pc.localDescription.sdp


async def close_peer(peers: dict, key: str):
    """Take peer ``key`` (a WHIP Session or a WHEP Peer) out of ``peers``,
    mark it closed, cancel its tasks (all but the one running this) and
    close its connection; returned for the caller's own teardown, or None
    when it was already gone (another close did, or does, the teardown)."""
    peer = peers.pop(key, None)
    if peer is None or peer.closed:
        return None
    peer.closed = True
    current = asyncio.current_task()
    for task in peer.tasks:
        if task is not current:
            task.cancel()
    with contextlib.suppress(Exception):
        await peer.pc.close()
    return peer


class _Pipe(threading.Thread):
    """Blocking writes to one ffmpeg input, off the event loop."""

    def __init__(self, fd: int, name: str):
        super().__init__(name=name, daemon=True)
        self.file = open(fd, "wb", buffering=1 << 20)  # noqa: SIM115 (closed by run())
        self.frames: queue.Queue[bytes | None] = queue.Queue(PIPE_QUEUE_FRAMES)
        self.dropped = 0
        self.written = 0

    def put(self, data: bytes | None) -> None:
        try:
            self.frames.put_nowait(data)
        except queue.Full:
            if data is None:  # make room for the end marker
                with contextlib.suppress(queue.Empty):
                    self.frames.get_nowait()
                self.frames.put_nowait(None)
            else:
                self.dropped += 1

    def run(self) -> None:
        try:
            while (data := self.frames.get()) is not None:
                self.file.write(data)
                self.file.flush()
                self.written += 1
        except (BrokenPipeError, OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                self.file.close()


def relay_command(ingest_url: str, *, width: int, height: int, audio_fd: int | None) -> list[str]:
    """Raw frames in (stamped on arrival: WebRTC frame rates vary), H.264 +
    AAC in FLV out, a keyframe per HLS fragment like every other publisher."""
    command = [settings.FFMPEG_BINARY, "-hide_banner", "-loglevel", "error", "-nostdin"]
    command += ["-thread_queue_size", "64", "-use_wallclock_as_timestamps", "1"]
    command += ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}", "-framerate", "30", "-i", "pipe:0"]
    if audio_fd is not None:
        command += ["-thread_queue_size", "64", "-use_wallclock_as_timestamps", "1"]
        command += ["-f", "s16le", "-ar", "48000", "-ac", "2", "-i", f"pipe:{audio_fd}"]
    fragment = settings.MEDIA_HLS_FRAGMENT_MS / 1000
    command += ["-fps_mode", "vfr", "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency"]
    command += ["-b:v", "1500k", "-maxrate", "1500k", "-bufsize", "3000k", "-pix_fmt", "yuv420p"]
    command += ["-force_key_frames", f"expr:gte(t,n_forced*{fragment})"]
    if audio_fd is not None:
        command += ["-c:a", "aac", "-b:a", "96k", "-ar", "44100", "-af", "aresample=async=1000"]
    return [*command, "-f", "flv", ingest_url]


@dataclass
class Session:
    id: str
    user_id: int
    ingest_url: str
    pc: object
    tracks: dict = field(default_factory=dict)
    # Fans the incoming tracks out to ffmpeg and to WHEP viewers (webrtc_egress).
    fanout: object = None
    ffmpeg: subprocess.Popen | None = None
    pipes: dict = field(default_factory=dict)
    tasks: list = field(default_factory=list)
    closed: bool = False
    # Set once peer, pipes and ffmpeg are all gone.
    torn_down: threading.Event = field(default_factory=threading.Event)


class Relay:
    def __init__(self):
        self.sessions: dict[str, Session] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    # --- thread-safe entry points (views) -----------------------------------
    def _run(self, coroutine, timeout):
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, name="whip-relay", daemon=True).start()
                atexit.register(self.shutdown)
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def session_of(self, user_id: int) -> Session | None:
        return next((s for s in list(self.sessions.values()) if s.user_id == user_id and not s.closed), None)

    def open(self, *, offer_sdp: str, user_id: int, ingest_url: str) -> tuple[str, str]:
        """(session id, SDP answer); RelayError for an offer without video."""
        return self._run(self._open(offer_sdp, user_id, ingest_url), OPEN_TIMEOUT_SECONDS)

    def close(self, session_id: str) -> None:
        self._run(self._close(session_id), CLOSE_TIMEOUT_SECONDS)

    def shutdown(self) -> None:
        if self._loop is None:
            return
        for session_id in list(self.sessions):
            with contextlib.suppress(Exception):
                self.close(session_id)

    # --- on the relay loop ----------------------------------------------------
    async def _open(self, offer_sdp: str, user_id: int, ingest_url: str) -> tuple[str, str]:
        session_id = secrets.token_urlsafe(18)
        pc = peer_connection(lambda: self._close(session_id))
        session = Session(id=session_id, user_id=user_id, ingest_url=ingest_url, pc=pc)
        pc.on("track", lambda track: session.tracks.setdefault(track.kind, track))

        async def check():
            if "video" not in session.tracks:
                raise RelayError("no_video", "The offer must send a video track.")

        answer = await answer_offer(pc, offer_sdp, check)
        from aiortc.contrib.media import MediaRelay

        session.fanout = MediaRelay()
        self.sessions[session.id] = session
        session.tasks.append(asyncio.ensure_future(self._pump_video(session)))
        if "audio" in session.tracks:
            session.tasks.append(asyncio.ensure_future(self._pump_audio(session)))
        return session.id, answer

    async def _pump_video(self, session: Session) -> None:
        from aiortc.mediastreams import MediaStreamError

        track = session.fanout.subscribe(session.tracks["video"])
        try:
            frame = await track.recv()
            # Fixed output size from the first frame (even, for yuv420p);
            # later frames are scaled to it when the browser adapts resolution.
            width, height = frame.width // 2 * 2, frame.height // 2 * 2
            await self._start_ffmpeg(session, width, height)
            while not session.closed:
                image = frame.reformat(width=width, height=height, format="yuv420p")
                session.pipes["video"].put(image.to_ndarray().tobytes())
                frame = await track.recv()
        except MediaStreamError:
            pass
        finally:
            await self._close(session.id)

    async def _pump_audio(self, session: Session) -> None:
        import av
        from aiortc.mediastreams import MediaStreamError

        track = session.fanout.subscribe(session.tracks["audio"])
        resampler = av.AudioResampler(format="s16", layout="stereo", rate=48000)
        with contextlib.suppress(MediaStreamError):
            while not session.closed:
                frame = await track.recv()
                pipe = session.pipes.get("audio")
                if pipe is None:
                    continue  # before the first video frame started ffmpeg
                for out in resampler.resample(frame):
                    pipe.put(out.to_ndarray().tobytes())

    async def _start_ffmpeg(self, session: Session, width: int, height: int) -> None:
        audio_read = audio_write = None
        if "audio" in session.tracks:
            audio_read, audio_write = os.pipe()
        video_read, video_write = os.pipe()
        command = relay_command(session.ingest_url, width=width, height=height, audio_fd=audio_read)
        log_path = settings.MEDIA_VAR_DIR / "logs" / "whip-relay.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as stderr:
            session.ffmpeg = subprocess.Popen(
                command,
                stdin=video_read,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                pass_fds=(audio_read,) if audio_read is not None else (),
            )
        os.close(video_read)
        session.pipes["video"] = _Pipe(video_write, f"whip-video-{session.id[:6]}")
        if audio_read is not None:
            os.close(audio_read)
            session.pipes["audio"] = _Pipe(audio_write, f"whip-audio-{session.id[:6]}")
        for pipe in session.pipes.values():
            pipe.start()
        session.tasks.append(asyncio.ensure_future(self._watch_ffmpeg(session)))

    async def _watch_ffmpeg(self, session: Session) -> None:
        """ffmpeg exits when the hook refuses or cuts the publish: end the peer too."""
        await asyncio.get_running_loop().run_in_executor(None, session.ffmpeg.wait)
        await self._close(session.id)

    async def _close(self, session_id: str) -> None:
        session = await close_peer(self.sessions, session_id)
        if session is None:
            return
        for pipe in session.pipes.values():
            pipe.put(None)
        if session.ffmpeg is not None and session.ffmpeg.poll() is None:
            session.ffmpeg.terminate()
            try:
                await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(None, session.ffmpeg.wait), 5)
            except TimeoutError:
                session.ffmpeg.kill()
        session.torn_down.set()


relay = Relay()

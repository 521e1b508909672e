"""CPU of the WHIP → RTMP relay per browser performer (``shows.whip_relay``).

A browser stand-in (aiortc in a separate process, so its encoding is not
counted) sends 30 fps moving video (BENCH_SIZE, default 640x480) (VP8, what Chromium sends by
default) and 48 kHz audio to the relay; the relay runs as in the web process
(aiortc receive + decode, scale to yuv420p, pipes) and starts the relay's own
ffmpeg command (``relay_command``: x264 veryfast + AAC into FLV), writing the
FLV to a file instead of nginx (same encode and mux; RTMP send is negligible).
After a warm-up, CPU over BENCH_SECONDS: the relay side = this process's
user+system time (its main thread only sleeps), ffmpeg = /proc/<pid>/stat.
Usage: .venv/bin/python bench/whip/run.py   (BENCH_SECONDS, default 20)
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marquee.settings")

SECONDS = int(os.environ.get("BENCH_SECONDS", "20"))
WARMUP = 5
# Chromium's fake camera (and many webcams) send 640x480.
WIDTH, HEIGHT = (int(v) for v in os.environ.get("BENCH_SIZE", "640x480").split("x"))


def browser(conn, seconds):
    """The sending side, in its own process (not measured)."""
    import asyncio
    import fractions

    import av
    import numpy
    from aiortc import (
        AudioStreamTrack,
        RTCConfiguration,
        RTCPeerConnection,
        RTCSessionDescription,
        VideoStreamTrack,
    )

    class Moving(VideoStreamTrack):
        def __init__(self):
            super().__init__()
            y, x = numpy.mgrid[0:HEIGHT, 0:WIDTH]
            self.base = ((x + y) % 256).astype(numpy.uint8)
            self.noise = numpy.random.default_rng(1).integers(0, 40, (HEIGHT, WIDTH), dtype=numpy.uint8)

        async def recv(self):
            pts, time_base = await self.next_timestamp()
            shift = (pts // 3000) % WIDTH
            luma = numpy.roll(self.base, shift, axis=1) + numpy.roll(self.noise, shift, axis=0)
            planes = numpy.concatenate([luma, numpy.full((HEIGHT // 2, WIDTH), 128, numpy.uint8)])
            frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            frame.pts, frame.time_base = pts, time_base or fractions.Fraction(1, 90000)
            return frame

    async def run():
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTrack(Moving())
        pc.addTrack(AudioStreamTrack())
        await pc.setLocalDescription(await pc.createOffer())
        conn.send(pc.localDescription.sdp)
        answer = await asyncio.to_thread(conn.recv)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await asyncio.sleep(seconds)
        await pc.close()

    asyncio.run(run())


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    import django

    django.setup()
    from django.conf import settings

    from marquee.shows.whip_relay import relay

    out = Path(tempfile.mkdtemp(prefix="whip-bench-"))
    settings.MEDIA_VAR_DIR = out
    parent, child = multiprocessing.get_context("spawn").Pipe()
    sender = multiprocessing.get_context("spawn").Process(target=browser, args=(child, SECONDS + WARMUP + 10))
    sender.start()
    session_id, answer = relay.open(offer_sdp=parent.recv(), user_id=0, ingest_url=str(out / "out.flv"))
    parent.send(answer)
    session = relay.sessions[session_id]
    deadline = time.monotonic() + 20
    while session.ffmpeg is None and time.monotonic() < deadline:
        time.sleep(0.1)
    if session.ffmpeg is None:
        sys.exit("no frames reached the relay")
    time.sleep(WARMUP)
    t0, own0, ff0 = time.monotonic(), sum(os.times()[:2]), proc_cpu(session.ffmpeg.pid)
    size0 = (out / "out.flv").stat().st_size
    time.sleep(SECONDS)
    elapsed = time.monotonic() - t0
    own = (sum(os.times()[:2]) - own0) / elapsed * 100
    ff = (proc_cpu(session.ffmpeg.pid) - ff0) / elapsed * 100
    kbps = ((out / "out.flv").stat().st_size - size0) * 8 / elapsed / 1000
    relay.close(session_id)
    probe = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v",
            "-count_packets",
            "-show_entries",
            "stream=nb_read_packets,width,height:format=duration",
            "-of",
            "default=nw=1",
            str(out / "out.flv"),
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    facts = dict(line.split("=", 1) for line in probe.split() if "=" in line)
    fps = int(facts.get("nb_read_packets", 0)) / max(float(facts.get("duration", 0) or 0), 0.001)
    sender.terminate()
    sender.join(10)
    total = own + ff
    print(f"relay (aiortc receive+decode+scale, pipes): {own:.1f}% of a core")
    print(f"ffmpeg (x264 veryfast + AAC → FLV):        {ff:.1f}% of a core  ({kbps:.0f} kb/s out)")
    print(f"total per browser performer:               {total:.1f}% of a core → {100 / total:.1f} per core")
    per_frame_ms = total / 100 * 1000 / fps if fps else 0
    print(f"per delivered frame: {per_frame_ms:.1f} ms of CPU → {per_frame_ms * 30 / 10:.1f}% of a core at 30 fps")
    print(f"video delivered: {facts.get('width')}x{facts.get('height')} at {fps:.1f} fps (whole file)")
    print(f"over {elapsed:.1f} s; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()

"""Glass-to-glass latency of the live pipeline, read from the burned-in clock.

ffmpeg publishes the test pattern with drawtext's clock (``pts + offset``,
offset = the wall time just before ffmpeg starts, so the drawn clock can only
run behind reality: the figure is an upper bound).  nginx-rtmp packages 1 s
HLS fragments.  Every 50 ms we read the playlist; when a new segment is
listed we decode its last frame with PyAV and read the clock drawn on it
(the frame's pts mapped through the same offset).  A player that starts
``liveSyncDurationCount`` = 2 fragments behind the live edge (our hls.js
setting) shows that frame 2 s after it became available, so

    glass-to-glass = (time listed - clock of the newest frame) + 2 x 1 s

Hooks go to a stub answering 200 (this measures media, not Django).
Usage: .venv/bin/python bench/latency/run.py
"""

from __future__ import annotations

import http.server
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marquee.settings")
import django

django.setup()

import av  # noqa: E402

from marquee.shows.media_server import MediaConfig, nginx_command, write_config  # noqa: E402
from marquee.shows.publisher import clock_offset, publish_command  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
PLAYER_OFFSET = 2 * 1.0  # hls.js liveSyncDurationCount x fragment length
# nginx-rtmp writes MPEG-TS pts = RTMP timestamp + 63000/90000 s (its
# NGX_RTMP_HLS_DELAY); drawtext's pts is the RTMP timestamp.
NGX_RTMP_HLS_DELAY = 0.7


class AcceptAll(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def last_frame(segment: Path):
    with av.open(str(segment)) as container:
        last = None
        for frame in container.decode(video=0):
            last = frame
        return last.time, last.to_image()


def main() -> None:
    hooks = http.server.ThreadingHTTPServer(("127.0.0.1", 0), AcceptAll)
    threading.Thread(target=hooks.serve_forever, daemon=True).start()
    var_dir = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    config = MediaConfig(
        var_dir=var_dir,
        rtmp_port=free_port(),
        http_port=free_port(),
        hook_base_url=f"http://127.0.0.1:{hooks.server_port}",
    )
    write_config(config)
    nginx = subprocess.Popen(nginx_command(config))
    time.sleep(1)
    start = time.time()
    ffmpeg = subprocess.Popen(publish_command(f"rtmp://127.0.0.1:{config.rtmp_port}/live/bench?key=x", start=start))
    offset = clock_offset(start)
    day = start - offset  # midnight UTC of the start day
    playlist = config.hls_dir / "bench" / "index.m3u8"
    seen, samples = set(), []
    image, drawn_clock = None, 0.0
    try:
        deadline = time.time() + SECONDS
        while time.time() < deadline:
            try:
                names = [line for line in playlist.read_text().splitlines() if line.endswith(".ts")]
            except FileNotFoundError:
                names = []
            if names and names[-1] not in seen:
                listed = time.time()
                seen.add(names[-1])
                pts, image = last_frame(playlist.parent / names[-1])
                # The clock drawtext drew on this frame (see the module docstring).
                drawn_clock = day + offset + pts - NGX_RTMP_HLS_DELAY
                samples.append(listed - drawn_clock)
            time.sleep(0.05)
    finally:
        ffmpeg.terminate()
        ffmpeg.wait(10)
        nginx.terminate()
        nginx.wait(10)
        hooks.shutdown()
    if image is not None:
        # For a human check: the clock drawn on the frame vs the one computed.
        image.save(var_dir / "last-frame.png")
        clock = time.strftime("%H:%M:%S", time.gmtime(drawn_clock)) + f"{drawn_clock % 1:.3f}"[1:]
        print(f"last frame saved to {var_dir / 'last-frame.png'}; its drawn clock should read {clock} UTC")
    samples = samples[2:]  # skip start-up
    packaging = statistics.median(samples)
    p95 = sorted(samples)[int(len(samples) * 0.95) - 1]
    print(f"{len(samples)} segments, 640x360 25 fps x264 veryfast/zerolatency, keyframe 1 s, hls_fragment 1s")
    print(f"capture -> segment listed: median {packaging:.2f} s, p95 {p95:.2f} s, max {max(samples):.2f} s")
    print(f"glass-to-glass at 2 segments behind live: median {packaging + PLAYER_OFFSET:.2f} s (target <= 3 s)")


if __name__ == "__main__":
    main()

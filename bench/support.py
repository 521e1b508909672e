"""What several benchmarks share: a free port, the real ASGI app started on
uvicorn and waited for (``bench/chat_fanout``, ``bench/tips_http``), and
for ``bench/latency`` and ``bench/whep`` the media server with the clock
pattern published to it and the burned-in clock read off the player's
<video>.  Imports nothing of the project at module level, so each script
sets Django up (or not) as before."""

from __future__ import annotations

import http.server
import io
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    """The ``p`` (0-1) quantile of ``values``, nearest rank below."""
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * p) - 1)] if ordered else float("nan")


def raise_fd_limit(wanted: int = 65536) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


def start_uvicorn(
    port: int,
    *,
    app: str = "marquee.asgi:application",
    workers: int = 1,
    options: tuple[str, ...] = (),
    env: dict | None = None,
    ready_seconds: float = 90,
    many_sockets: bool = False,
) -> subprocess.Popen:
    """``app`` on uvicorn at 127.0.0.1:``port`` (``workers`` processes, quiet
    logs, ``options`` appended), returned once it accepts connections.
    ``many_sockets`` lifts the server's open-file limit (thousands of chat sockets)."""
    cmd = [
        sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--no-access-log", "--log-level", "warning", *options,
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env={**os.environ, **(env or {})}, preexec_fn=raise_fd_limit if many_sockets else None
    )
    deadline = time.time() + ready_seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


class AcceptAll(http.server.BaseHTTPRequestHandler):
    """The media server's hooks, stubbed: every publish and play is allowed."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@dataclass
class Media:
    config: object  # marquee.shows.media_server.MediaConfig
    playback_url: str  # signed HLS URL of show 1, stream "bench"
    expires: int


@contextmanager
def media_server(prefix: str, **publish) -> Iterator[Media]:
    """The project's nginx-rtmp (config from ``shows.media_server``) in a new
    temporary folder named ``prefix``..., its hooks answered by ``AcceptAll``,
    show 1's media opened for stream "bench", and ffmpeg publishing the clock
    pattern to it (``shows.publisher.publish_command`` with ``publish``).
    Sets ``MEDIA_VAR_DIR``; stops ffmpeg, nginx and the stub on the way out.
    Needs Django set up."""
    from django.conf import settings

    from marquee.shows import playback
    from marquee.shows.media_server import MediaConfig, nginx_command, write_config
    from marquee.shows.publisher import publish_command

    hooks = http.server.ThreadingHTTPServer(("127.0.0.1", 0), AcceptAll)
    threading.Thread(target=hooks.serve_forever, daemon=True).start()
    var_dir = Path(tempfile.mkdtemp(prefix=prefix))
    config = MediaConfig(
        var_dir=var_dir,
        rtmp_port=free_port(),
        http_port=free_port(),
        hook_base_url=f"http://127.0.0.1:{hooks.server_port}",
    )
    settings.MEDIA_VAR_DIR = var_dir
    write_config(config)
    nginx = subprocess.Popen(nginx_command(config))
    ffmpeg = None
    try:
        time.sleep(1)
        playback.open_show_media(1, "bench")
        expires = int(time.time()) + 3600
        path = playback.playback_path(viewer="anon", show=1, stream="bench", expires=expires)
        ffmpeg = subprocess.Popen(publish_command(f"rtmp://127.0.0.1:{config.rtmp_port}/live/bench?key=x", **publish))
        yield Media(config, f"http://127.0.0.1:{config.http_port}{path}", expires)
    finally:
        if ffmpeg is not None:
            ffmpeg.terminate()
            ffmpeg.wait(10)
        nginx.terminate()
        nginx.wait(10)
        hooks.shutdown()


def clock_lag(video) -> float:
    """One glass-to-glass sample: screenshot the <video> (a Playwright
    locator) and read the clock strip ``shows.publisher`` burns in; the lag
    is the middle of the screenshot call minus the drawn clock (an upper
    bound: the clock is drawn no later than the frame is made)."""
    from PIL import Image

    from marquee.shows.publisher import pattern_latency, read_clock_pattern

    before = time.time()
    png = video.screenshot()
    after = time.time()
    return pattern_latency(read_clock_pattern(Image.open(io.BytesIO(png))), (before + after) / 2)


def sample_clock(video, seconds: float, every: float = 0.25) -> list[float]:
    """``clock_lag`` every ``every`` seconds for ``seconds``, sorted."""
    samples = []
    deadline = time.time() + seconds
    while time.time() < deadline:
        samples.append(clock_lag(video))
        time.sleep(every)
    return sorted(samples)

"""What several benchmarks share: a free port, the real ASGI app started on
uvicorn and waited for (``bench/chat_fanout``, ``bench/tips_http``), and
the burned-in clock read off the player's <video> (``bench/latency``,
``bench/whep``).  Imports nothing of the project at module level, so each
script sets Django up (or not) as before."""

from __future__ import annotations

import io
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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

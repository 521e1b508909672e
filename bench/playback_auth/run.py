"""Requests/s for one HLS segment through nginx secure_link (the signed
playback URL Django hands out) vs the same file served unprotected, wrk on
loopback, one run each.  Usage: .venv/bin/python bench/playback_auth/run.py"""

from __future__ import annotations

import os
import re
import shutil
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

from marquee.shows.media_server import MediaConfig, nginx_command, write_config  # noqa: E402
from marquee.shows.playback import playback_path  # noqa: E402

DURATION = os.environ.get("BENCH_DURATION", "2s")
# The machines are shared and noisy: alternate short rounds, compare medians.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "64")
SEGMENT_BYTES = 93_000  # one 1 s segment of the demo stream (600 kb/s + audio)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nginx_cpu_seconds(master_pid: int) -> float:
    """CPU time (user + system) of nginx's master and worker processes."""
    pids = [master_pid]
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    pids += [int(pid) for pid in children]
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def wrk(url: str, master_pid: int) -> tuple[float, float]:
    """(requests/s, requests per nginx CPU-second) for one wrk run."""
    cpu_before = nginx_cpu_seconds(master_pid)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", url], capture_output=True, text=True, check=True
    ).stdout
    cpu = nginx_cpu_seconds(master_pid) - cpu_before
    assert "Non-2xx" not in out, out
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), requests / cpu


def main() -> None:
    var_dir = Path(tempfile.mkdtemp(prefix="bench-playback-"))
    plain_port = free_port()
    config = MediaConfig(var_dir=var_dir, rtmp_port=free_port(), http_port=free_port())
    # The baseline: the same HLS location (path parsing, CORS and cache
    # headers, alias) with no token check, i.e. an unprotected HLS origin.
    config.extra_http = f"""
    server {{
        listen 127.0.0.1:{plain_port};
        location ~ "^/plain/(?<stream>[^/]+)/(?<file>[A-Za-z0-9_-]+\\.(?:m3u8|ts))$" {{
            add_header Access-Control-Allow-Origin * always;
            add_header Cache-Control $hls_cache_control always;
            alias {config.hls_dir.resolve()}/$stream/$file;
        }}
    }}"""
    write_config(config)
    (config.hls_dir / "bench").mkdir(parents=True)
    segment = config.hls_dir / "bench" / "7.ts"
    segment.write_bytes(os.urandom(SEGMENT_BYTES))
    # The link Django makes when show 1 goes live (shows.playback.open_show_media).
    (var_dir / "live" / "1").symlink_to(config.hls_dir.resolve() / "bench", target_is_directory=True)
    # nginx-rtmp's hls_cleanup deletes fragments that look old: keep it fresh.
    stop = threading.Event()

    def keep_fresh():
        while not stop.wait(0.5):
            os.utime(segment)

    threading.Thread(target=keep_fresh, daemon=True).start()
    nginx = subprocess.Popen(nginx_command(config), stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)
        signed = f"http://127.0.0.1:{config.http_port}" + playback_path(
            viewer="u42", show=1, stream="bench", expires=int(time.time()) + 3600, file="7.ts"
        )
        plain = f"http://127.0.0.1:{plain_port}/plain/bench/7.ts"
        wrk(plain, nginx.pid)  # warm-up (page cache, open_file_cache)
        unprotected, protected = [], []
        for round_ in range(ROUNDS):
            pair = [(plain, unprotected), (signed, protected)]
            for url, results in pair if round_ % 2 == 0 else pair[::-1]:
                results.append(wrk(url, nginx.pid))
    finally:
        stop.set()
        nginx.terminate()
        nginx.wait(10)
        shutil.rmtree(var_dir, ignore_errors=True)
    print(f"segment {SEGMENT_BYTES} bytes, wrk -t2 -c{CONNECTIONS} -d{DURATION} x {ROUNDS} alternating rounds")
    for label, index, unit in (("wall-clock", 0, "req/s"), ("per nginx CPU-second", 1, "req/CPU-s")):
        plain_runs = [run[index] for run in unprotected]
        signed_runs = [run[index] for run in protected]
        print(f"{label}: unprotected", " ".join(f"{r:,.0f}" for r in plain_runs), unit)
        print(f"{label}: secure_link", " ".join(f"{r:,.0f}" for r in signed_runs), unit)
        ratio = statistics.median(signed_runs) / statistics.median(plain_runs)
        # Each round's pair ran back to back, under the same background load.
        paired = statistics.median(signed / plain for signed, plain in zip(signed_runs, plain_runs, strict=True))
        print(
            f"{label}: median {statistics.median(plain_runs):,.0f} vs {statistics.median(signed_runs):,.0f} {unit},"
            f" ratio of medians {ratio:.3f}, median of per-round ratios {paired:.3f} (target >= 0.95)"
        )


if __name__ == "__main__":
    main()

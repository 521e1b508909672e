"""CPU cost of one 480p rendition: ffmpeg pulls a 720p live stream from the
local RTMP server (RTMP play is allowed from 127.0.0.1 only) and encodes it
to 854x480 H.264 (veryfast, zerolatency) + AAC, as a transcoder would before
pushing it back as ``<name>_480p``.  Reports the transcoder's CPU time per
second of video = the share of one core it needs.
Usage: .venv/bin/python bench/transcode/run.py"""

from __future__ import annotations

import http.server
import os
import resource
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

from bench.latency.run import AcceptAll, free_port  # noqa: E402
from marquee.shows.media_server import MediaConfig, nginx_command, write_config  # noqa: E402
from marquee.shows.publisher import publish_command  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "20"))


def main() -> None:
    hooks = http.server.ThreadingHTTPServer(("127.0.0.1", 0), AcceptAll)
    threading.Thread(target=hooks.serve_forever, daemon=True).start()
    config = MediaConfig(
        var_dir=Path(tempfile.mkdtemp(prefix="bench-transcode-")),
        rtmp_port=free_port(),
        http_port=free_port(),
        hook_base_url=f"http://127.0.0.1:{hooks.server_port}",
    )
    write_config(config)
    nginx = subprocess.Popen(nginx_command(config))
    time.sleep(1)
    source = f"rtmp://127.0.0.1:{config.rtmp_port}/live/src"
    publisher = subprocess.Popen(publish_command(source + "?key=x", size="1280x720", fps=30), stdout=subprocess.DEVNULL)
    time.sleep(3)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-i", source, "-t", str(SECONDS)]
    command += ["-vf", "scale=854:480", "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency"]
    command += ["-b:v", "1200k", "-g", "30", "-c:a", "aac", "-b:a", "96k", "-f", "null", "-"]
    transcoder = subprocess.run(command, check=False)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    publisher.terminate()
    publisher.wait(10)
    nginx.terminate()
    nginx.wait(10)
    hooks.shutdown()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"transcoder exit {transcoder.returncode}: {SECONDS} s of 720p30 -> 854x480 veryfast in {wall:.1f} s wall")
    print(f"CPU {cpu:.1f} s = {100 * cpu / SECONDS:.0f}% of one core per 480p rendition")


if __name__ == "__main__":
    main()

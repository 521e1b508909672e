"""CPU cost of the adaptive ladder (``MEDIA_LADDER``, ``marquee.shows.ladder``).

A 1280x720 30 fps test pattern (x264 veryfast, keyframe every second) is
published to the project's nginx; then, one after the other, ffmpeg runs the
media server's own transcode command (``ladder.transcode_args``) for each
rung alone and for the whole default ladder, pulling the live stream over
RTMP and pushing the renditions to the ``hls`` application (so RTMP demux,
decode, scale, encode and FLV mux are all counted; nginx's HLS packaging is
not, it is the same with or without transcoding).  CPU = the transcoder's
user+system time (getrusage of the child) / seconds of video: the share of
one core one performer needs.  Decoding the source is paid once per
performer, so a rung alone includes it and the ladder is less than the sum.
Usage: .venv/bin/python bench/transcode/run.py   (BENCH_SECONDS, default 20)
"""

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
from marquee.shows import ladder  # noqa: E402
from marquee.shows.media_server import MediaConfig, nginx_command, write_config  # noqa: E402
from marquee.shows.publisher import publish_command  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "20"))
CASES = ["source", "720p", "480p", "360p", "240p", ladder.DEFAULT_LADDER, "720p,480p,360p"]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    hooks = http.server.ThreadingHTTPServer(("127.0.0.1", 0), AcceptAll)
    threading.Thread(target=hooks.serve_forever, daemon=True).start()
    # The media server's own transcoder is off here (a ladder of the source
    # only is a copy); each case below runs its transcoder by hand.
    config = MediaConfig(
        var_dir=Path(tempfile.mkdtemp(prefix="bench-transcode-")),
        rtmp_port=free_port(),
        http_port=free_port(),
        hook_base_url=f"http://127.0.0.1:{hooks.server_port}",
        ladder=ladder.parse_ladder("source"),
    )
    write_config(config)
    nginx = subprocess.Popen(nginx_command(config))
    time.sleep(1)
    local = f"rtmp://127.0.0.1:{config.rtmp_port}"
    publisher = subprocess.Popen(
        publish_command(f"{local}/live/src?key=x", size="1280x720", fps=30), stdout=subprocess.DEVNULL
    )
    time.sleep(4)
    load_before = os.getloadavg()[0]
    results = []
    try:
        for case in CASES:
            rungs = ladder.parse_ladder(case)
            args = ladder.transcode_args(
                rungs, source=f"{local}/live/src", target=f"{local}/hls/b{len(results)}", fragment_seconds=1
            )
            # An input option: every output stops after SECONDS of video.
            at = args.index("-i")
            args[at:at] = ["-t", str(SECONDS)]
            before, started = cpu_seconds(), time.monotonic()
            done = subprocess.run([settings_ffmpeg(), *args], check=False)
            wall = time.monotonic() - started
            share = (cpu_seconds() - before) / SECONDS
            results.append((case, share, wall, done.returncode))
            print(
                f"{case:>18}: {100 * share:5.1f}% of a core per performer ({wall:.1f} s wall, exit {done.returncode})",
                flush=True,
            )
    finally:
        publisher.terminate()
        publisher.wait(10)
        nginx.terminate()
        nginx.wait(10)
        hooks.shutdown()
    load_after = os.getloadavg()[0]
    print(f"source 1280x720 30 fps; x264 veryfast/zerolatency, rungs keyframe every 1 s; {SECONDS} s per case")
    print(f"load average (1 min) {load_before:.2f} -> {load_after:.2f}, {os.cpu_count()} cores")
    for case, share, _, _ in results:
        if "," in case:
            print(f"ladder {case}: {100 * share:.0f}% of a core -> {1 / share:.1f} performers per core")


def settings_ffmpeg() -> str:
    from django.conf import settings

    return settings.FFMPEG_BINARY


if __name__ == "__main__":
    main()

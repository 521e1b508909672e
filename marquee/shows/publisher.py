"""An ffmpeg test-pattern publisher (demo stream, integration tests,
benchmarks): test pattern, burned-in wall clock with milliseconds, a tone."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf")


def clock_offset(start: float) -> float:
    """drawtext draws ``pts + offset`` as HH:MM:SS.mmm; with this offset (the
    second of the UTC day the stream started) that is the wall clock."""
    return start % 86400


def publish_command(
    rtmp_url: str, *, size: str = "640x360", fps: int = 25, start: float | None = None, duration: float | None = None
) -> list[str]:
    offset = clock_offset(time.time() if start is None else start)
    font = f"fontfile={FONT}:" if FONT.exists() else ""
    clock = (
        f"drawtext={font}text='%{{pts\\:hms\\:{offset:.3f}}} UTC':fontsize=28:fontcolor=white"
        ":box=1:boxcolor=black@0.6:boxborderw=6:x=12:y=h-th-18"
    )
    command = [settings.FFMPEG_BINARY, "-hide_banner", "-loglevel", "error", "-nostdin", "-re"]
    command += ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}"]
    command += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
    if duration is not None:
        command += ["-t", f"{duration}"]
    command += ["-vf", clock, "-pix_fmt", "yuv420p"]
    command += ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-b:v", "600k"]
    # A keyframe every second: HLS cuts 1 s fragments only at keyframes.
    command += ["-g", str(fps), "-keyint_min", str(fps), "-sc_threshold", "0"]
    command += ["-c:a", "aac", "-b:a", "64k", "-ar", "44100", "-f", "flv", rtmp_url]
    return command

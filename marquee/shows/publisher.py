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


# The clock again as a machine-readable strip along the top: PATTERN_BITS
# cells, cell k white when bit k of the centiseconds of the UTC day (mod
# 2**PATTERN_BITS, ~2.9 h) is set, so a screenshot of the player can be read
# without OCR (bench/latency).
PATTERN_BITS = 20
PATTERN_HEIGHT = 24


def clock_pattern(width: int, offset: float) -> str:
    cell = width // PATTERN_BITS
    boxes = [f"drawbox=x=0:y=0:w=iw:h={PATTERN_HEIGHT}:color=black:t=fill"]
    for bit in range(PATTERN_BITS):
        on = f"mod(floor(floor((t+{offset:.3f})*100)/{2**bit}),2)"
        boxes.append(f"drawbox=x={bit * cell}:y=0:w={cell}:h={PATTERN_HEIGHT}:color=white:t=fill:enable='{on}'")
    return ",".join(boxes)


def read_clock_pattern(image) -> float | None:
    """Centiseconds of the UTC day (mod 2**PATTERN_BITS) / 100 from a picture
    of the frame (a PIL image scaled to any size, no letterbox)."""
    gray = image.convert("L")
    width, height = gray.size
    y = int(height * (PATTERN_HEIGHT / 2) / 360)
    value = 0
    for bit in range(PATTERN_BITS):
        x = int(width * (bit + 0.5) / PATTERN_BITS)
        if gray.getpixel((x, y)) > 127:
            value |= 1 << bit
    return value / 100


def pattern_latency(drawn: float, now: float) -> float:
    """Seconds from the drawn clock to ``now`` (a Unix time), modulo the pattern's range."""
    period = 2**PATTERN_BITS / 100
    return ((now % 86400) - drawn) % period


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
    pattern = clock_pattern(int(size.split("x")[0]), offset)
    command += ["-vf", f"{clock},{pattern}", "-pix_fmt", "yuv420p"]
    command += ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-b:v", "600k"]
    # A keyframe every half second: HLS cuts fragments only at keyframes (MEDIA_HLS_FRAGMENT_MS).
    gop = max(1, fps // 2)
    command += ["-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0"]
    command += ["-c:a", "aac", "-b:a", "64k", "-ar", "44100", "-f", "flv", rtmp_url]
    return command

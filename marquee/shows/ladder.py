"""The adaptive-bitrate ladder: which renditions every live stream is
transcoded into (``MEDIA_LADDER``), and the ffmpeg command the media server
runs per published stream to make them.  No Django imports at module level:
settings validate the ladder with :func:`parse_ladder`.

nginx-rtmp pushes each rung as ``<stream>_<rung>`` to its ``hls`` application,
whose ``hls_variant`` lines write the master playlist ``<stream>.m3u8`` listing
``<stream>_<rung>/index.m3u8`` with BANDWIDTH and RESOLUTION.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = "source"


@dataclass(frozen=True)
class Rung:
    name: str
    height: int = 0  # 0: the source, passed through
    video_kbps: int = 0
    audio_kbps: int = 0

    @property
    def suffix(self) -> str:
        return "_src" if self.name == SOURCE else f"_{self.name}"

    @property
    def width(self) -> int:
        # 16:9, even (scale=-2 keeps the source's aspect; this is what the master playlist announces).
        return (self.height * 16 // 9 + 1) // 2 * 2

    def bandwidth(self, source_bandwidth: int) -> int:
        """Peak bits per second as the master playlist announces it (~10% over the average)."""
        if self.name == SOURCE:
            return source_bandwidth
        return (self.video_kbps + self.audio_kbps) * 1100


# Bitrates after Apple's HLS authoring ladder (H.264, 30 fps).
RUNGS = {
    SOURCE: Rung(SOURCE),
    "1080p": Rung("1080p", 1080, 5000, 128),
    "720p": Rung("720p", 720, 3000, 128),
    "480p": Rung("480p", 480, 1100, 96),
    "360p": Rung("360p", 360, 730, 96),
    "240p": Rung("240p", 240, 300, 64),
}
DEFAULT_LADDER = "source,480p,240p"


def parse_ladder(value: str) -> tuple[Rung, ...]:
    """``"source,480p,240p"`` → rungs from highest to lowest; ValueError on
    an unknown or repeated rung or an empty ladder."""
    names = [part.strip() for part in value.split(",") if part.strip()]
    if not names:
        raise ValueError("MEDIA_LADDER needs at least one rung")
    unknown = [name for name in names if name not in RUNGS]
    if unknown:
        raise ValueError(f"MEDIA_LADDER: unknown rung(s) {', '.join(unknown)}; choose from {', '.join(RUNGS)}")
    if len(set(names)) != len(names):
        raise ValueError("MEDIA_LADDER: a rung is listed twice")
    rungs = [RUNGS[name] for name in names]
    # The source first, then by height, highest first (hls.js starts on the first listed).
    return tuple(sorted(rungs, key=lambda rung: (rung.name != SOURCE, -rung.height)))


def lowest(ladder: tuple[Rung, ...]) -> Rung:
    return ladder[-1]


def transcode_args(ladder: tuple[Rung, ...], *, source: str, target: str, fragment_seconds: float) -> list[str]:
    """ffmpeg arguments (without the binary): read ``source`` once, push every
    rung to ``target + suffix`` as FLV.  Keyframes exactly every fragment in
    every transcoded rung, so segments line up and hls.js can switch cleanly.
    ``source``/``target`` may hold nginx-rtmp variables ($name)."""
    args = ["-hide_banner", "-loglevel", "error", "-nostdin", "-i", source]
    for rung in ladder:
        args += ["-map", "0:v:0?", "-map", "0:a:0?"]
        if rung.name == SOURCE:
            args += ["-c", "copy"]
        else:
            args += ["-vf", f"scale=-2:{rung.height}", "-c:v", "libx264", "-preset", "veryfast"]
            args += ["-tune", "zerolatency", "-profile:v", "main", "-pix_fmt", "yuv420p"]
            args += ["-b:v", f"{rung.video_kbps}k", "-maxrate", f"{rung.video_kbps * 11 // 10}k"]
            args += ["-bufsize", f"{rung.video_kbps * 2}k", "-sc_threshold", "0"]
            args += ["-force_key_frames", f"expr:gte(t,n_forced*{fragment_seconds:g})"]
            args += ["-c:a", "aac", "-b:a", f"{rung.audio_kbps}k", "-ar", "44100"]
        args += ["-f", "flv", f"{target}{rung.suffix}"]
    return args

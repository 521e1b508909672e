"""Live previews: one keyframe of the newest finished HLS segment, decoded
in-process with PyAV (no ffmpeg subprocess), saved as a small JPEG."""

from __future__ import annotations

import os
import time
from pathlib import Path

import av
from django.conf import settings

from marquee.shows import ladder, playback

WIDTH = 480


def thumbnail_dir() -> Path:
    return Path(settings.MEDIA_VAR_DIR) / "thumbnails"


def thumbnail_path(username: str) -> Path:
    # Usernames are [\w.@+-]; a leading dot is the only way to escape the folder.
    return thumbnail_dir() / f"{username.lstrip('.')}.jpg"


def discard_thumbnail(username: str) -> None:
    thumbnail_path(username).unlink(missing_ok=True)


def newest_segment(username: str) -> Path | None:
    """The last segment the lowest rung's playlist lists (complete, unlike the
    one being written); the lowest rung is the cheapest to decode."""
    folder = playback.rendition_dir(username, ladder.lowest(settings.MEDIA_LADDER))
    try:
        playlist = (folder / "index.m3u8").read_text()
    except OSError:
        return None
    segments = [line.strip() for line in playlist.splitlines() if line.strip().endswith(".ts")]
    return folder / segments[-1] if segments else None


def decode_keyframe(segment: Path):
    with av.open(str(segment)) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        for frame in container.decode(stream):
            return frame.to_image()
    return None


def refresh_thumbnail(username: str, *, max_age: float | None = None) -> Path | None:
    """Writes the preview unless a fresh one exists; returns its path."""
    max_age = settings.LIVE_THUMBNAIL_INTERVAL if max_age is None else max_age
    target = thumbnail_path(username)
    try:
        if time.time() - target.stat().st_mtime < max_age:
            return target
    except FileNotFoundError:
        pass
    segment = newest_segment(username)
    if segment is None:
        return None
    try:
        image = decode_keyframe(segment)
    except (av.FFmpegError, OSError, IndexError):
        return None
    if image is None:
        return None
    image.thumbnail((WIDTH, WIDTH))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    image.save(partial, "JPEG", quality=80)
    partial.replace(target)
    return target

"""Thumbnails and previews: Pillow for photos, PyAV for a video frame."""

from __future__ import annotations

import io

import av
from PIL import Image

from marquee.lib.images import open_limited_image

THUMB_SIZE = (480, 480)
PREVIEW_SIZE = (1280, 1280)
SHEET_FRAMES = 4


def _jpeg(image: Image.Image, size) -> bytes:
    copy = image.convert("RGB")
    copy.thumbnail(size)
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=82, optimize=True)
    return out.getvalue()


def image_previews(path_or_file) -> tuple[bytes, bytes]:
    image = open_limited_image(path_or_file)
    return _jpeg(image, THUMB_SIZE), _jpeg(image, PREVIEW_SIZE)


def video_frames(path: str, count: int = SHEET_FRAMES) -> list[Image.Image]:
    """``count`` frames spread over the video (keyframe seeks: cheap)."""
    frames = []
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        duration = float(container.duration or 0) / av.time_base if container.duration else 0.0
        targets = [duration * (i + 1) / (count + 1) for i in range(count)] if duration > 0 else [0.0]
        for seconds in targets:
            if seconds > 0 and stream.time_base:
                container.seek(int(seconds / stream.time_base), stream=stream, any_frame=False, backward=True)
            for frame in container.decode(stream):
                frames.append(frame.to_image())
                break
    return frames


def video_previews(path: str) -> tuple[bytes, bytes]:
    """Thumbnail: one frame; preview: a contact sheet of a few frames."""
    frames = video_frames(path)
    if not frames:
        raise ValueError("no decodable frame")
    thumb = _jpeg(frames[len(frames) // 2], THUMB_SIZE)
    tiles = [f.convert("RGB") for f in frames]
    for tile in tiles:
        tile.thumbnail((640, 360))
    width = sum(t.width for t in tiles)
    height = max(t.height for t in tiles)
    sheet = Image.new("RGB", (width, height), "#000000")
    x = 0
    for tile in tiles:
        sheet.paste(tile, (x, 0))
        x += tile.width
    return thumb, _jpeg(sheet, (2560, 720))

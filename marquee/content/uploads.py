"""Checking and cleaning an uploaded file before anything is stored.

The type comes from the bytes (``filetype``), never the name; images go
through ``lib.images`` (decoded under a pixel limit, re-encoded so no EXIF or
GPS data survives); videos are remuxed by PyAV without their metadata."""

from __future__ import annotations

import os
import tempfile
import uuid
from dataclasses import dataclass

import av
from django.conf import settings
from django.core.files.base import File

# Pictures share one path with avatars (``lib.images``); re-exported for this app.
from marquee.lib.images import IMAGE_TYPES, UploadRefused, check_image_size, clean_image, sniff

VIDEO_TYPES = {"video/mp4", "video/webm", "video/quicktime", "video/x-matroska"}


@dataclass
class CleanUpload:
    kind: str  # "image" | "video"
    mime: str
    file: File
    width: int = 0
    height: int = 0


def clean_upload(upload) -> CleanUpload:
    """Validate and sanitize one uploaded file; raises ``UploadRefused``."""
    size = upload.size or 0
    if size <= 0:
        raise UploadRefused("empty", "The file is empty.")
    if size > max(settings.CONTENT_MAX_IMAGE_BYTES, settings.CONTENT_MAX_VIDEO_BYTES):
        raise UploadRefused("too_large", "The file is too large.", 413)
    mime = sniff(upload)
    if mime in IMAGE_TYPES:
        check_image_size(upload)
        return _clean_image(upload, mime)
    if mime in VIDEO_TYPES:
        if size > settings.CONTENT_MAX_VIDEO_BYTES:
            limit = settings.CONTENT_MAX_VIDEO_BYTES // (1024 * 1024)
            raise UploadRefused("too_large", f"Videos may be at most {limit} MB.", 413)
        return _clean_video(upload, mime)
    raise UploadRefused(
        "unsupported_type",
        "Only photos (JPEG, PNG, WebP, GIF) and videos (MP4, WebM, MOV, MKV) can be uploaded; "
        "this file's content is neither, whatever its name says.",
        415,
    )


def _clean_image(upload, mime: str) -> CleanUpload:
    image = clean_image(upload, mime)
    return CleanUpload(kind="image", mime=image.mime, file=image.file, width=image.width, height=image.height)


def _clean_video(upload, mime: str) -> CleanUpload:
    """Remux (no re-encode) into a fresh container: streams are copied, metadata
    (location tags, device names) is not."""
    ext = {"video/webm": "webm", "video/x-matroska": "mkv"}.get(mime, "mp4")
    # Closed below and unlinked in ``finally``; PyAV needs real paths.
    src = tempfile.NamedTemporaryFile(suffix=".upload", delete=False)  # noqa: SIM115
    dst = tempfile.NamedTemporaryFile(suffix=f".{ext}", delete=False)  # noqa: SIM115
    try:
        upload.seek(0)
        for chunk in upload.chunks():
            src.write(chunk)
        src.close()
        dst.close()
        width = height = 0
        try:
            with av.open(src.name) as inp:
                video = next((s for s in inp.streams if s.type == "video"), None)
                if video is None:
                    raise UploadRefused("bad_video", "The file has no video stream.")
                width, height = video.codec_context.width, video.codec_context.height
                keep = [s for s in inp.streams if s.type in ("video", "audio")]
                with av.open(dst.name, "w", format={"webm": "webm", "mkv": "matroska"}.get(ext, "mp4")) as out:
                    mapping = {s.index: out.add_stream_from_template(s) for s in keep}
                    for packet in inp.demux(keep):
                        if packet.dts is None:
                            continue
                        packet.stream = mapping[packet.stream.index]
                        out.mux(packet)
        except UploadRefused:
            raise
        except (av.error.FFmpegError, ValueError, KeyError):
            raise UploadRefused("bad_video", "The video could not be read (damaged or unsupported).") from None
        # The open handle outlives the unlink below (POSIX), so nothing large sits in memory.
        handle = open(dst.name, "rb")  # noqa: SIM115
        return CleanUpload(
            kind="video",
            mime=mime,
            file=File(handle, name=f"{uuid.uuid4().hex}.{ext}"),
            width=width,
            height=height,
        )
    finally:
        for path in (src.name, dst.name):
            try:
                os.unlink(path)
            except OSError:
                pass

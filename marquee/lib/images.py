"""Checking and re-encoding an uploaded picture: the one path every image a
user sends goes through (content sets, performer avatars).

The type comes from the bytes (``filetype``), never the name; pixels are
decoded under ``CONTENT_MAX_IMAGE_PIXELS`` (decompression bombs) and written
out fresh, so no EXIF, GPS or XMP data survives."""

from __future__ import annotations

import io
import uuid
import warnings
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

from marquee.lib.errors import DomainError

IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif"}


class UploadRefused(DomainError):
    """An uploaded file that is refused (type, size, damage)."""


@dataclass
class CleanImage:
    mime: str
    file: ContentFile
    width: int
    height: int


def sniff(upload) -> str:
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    guess = filetype.guess(head)
    return guess.mime if guess else ""


def open_limited_image(source) -> Image.Image:
    """Open an image, refusing decompression bombs before decoding pixels."""
    limit = settings.CONTENT_MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
            width, height = image.size
            if width * height > limit:
                raise UploadRefused(
                    "too_many_pixels",
                    f"The image is too large ({width}×{height} pixels; at most {limit:,} pixels).",
                    413,
                )
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRefused("too_many_pixels", "The image is too large to decode safely.", 413) from None
    except UploadRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UploadRefused("bad_image", "The image could not be read (damaged or unsupported).") from None
    return image


def check_image_size(upload) -> None:
    size = upload.size or 0
    if size <= 0:
        raise UploadRefused("empty", "The file is empty.")
    if size > settings.CONTENT_MAX_IMAGE_BYTES:
        limit = settings.CONTENT_MAX_IMAGE_BYTES // (1024 * 1024)
        raise UploadRefused("too_large", f"Photos may be at most {limit} MB.", 413)


def clean_image(upload, mime: str = "", *, max_side: int | None = None) -> CleanImage:
    """Re-encode a picture (after ``check_image_size``); ``max_side`` shrinks
    it to fit a square of that many pixels (avatars)."""
    mime = mime or sniff(upload)
    if mime not in IMAGE_TYPES:
        raise UploadRefused(
            "unsupported_type", "Only photos (JPEG, PNG, WebP, GIF) can be used; this file's content is none.", 415
        )
    upload.seek(0)
    image = open_limited_image(upload)
    # Apply the camera orientation, then write fresh pixels: no EXIF/GPS/XMP is carried over.
    image = ImageOps.exif_transpose(image)
    if max_side:
        image.thumbnail((max_side, max_side))
    keep_alpha = image.mode in ("RGBA", "LA", "P") and mime in ("image/png", "image/webp", "image/gif")
    out = io.BytesIO()
    if keep_alpha:
        # zlib's default level: optimize=True (level 9) cost ~20% more CPU on a
        # 49-megapixel image (5.8 s vs 4.8 s) for 0.5% smaller files.
        image.convert("RGBA").save(out, "PNG")
        ext, out_mime = "png", "image/png"
    else:
        image.convert("RGB").save(out, "JPEG", quality=90, optimize=True)
        ext, out_mime = "jpg", "image/jpeg"
    return CleanImage(
        mime=out_mime,
        file=ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.{ext}"),
        width=image.width,
        height=image.height,
    )

"""Signed playback URLs checked by nginx ``secure_link`` with no call to Python.

``/v/<viewer>/<expires>/<sig>/<stream>/index.m3u8``: the token sits in the
path, so the playlist's relative segment URLs inherit it.  nginx computes
``md5("<expires>:<viewer>:<stream>:<secret>")`` (base64url, unpadded) and
compares it with ``<sig>``; the secret comes last so the MD5 construction
cannot be length-extended.
"""

from __future__ import annotations

import base64
import hashlib
import time
from urllib.parse import quote

from django.conf import settings

PLAYLIST = "index.m3u8"


def viewer_token(viewer) -> str:
    """Which viewer a URL is bound to: the user id, or ``anon`` for the
    public shows anonymous visitors may watch."""
    if viewer is not None and viewer.is_authenticated:
        return f"u{viewer.pk}"
    return "anon"


def playback_signature(*, viewer: str, stream: str, expires: int, secret: str | None = None) -> str:
    secret = settings.MEDIA_PLAYBACK_SECRET if secret is None else secret
    message = f"{expires}:{viewer}:{stream}:{secret}".encode()
    # MD5 because nginx secure_link_md5 offers nothing else; see the module docstring.
    digest = hashlib.md5(message, usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def playback_path(*, viewer: str, stream: str, expires: int, file: str = PLAYLIST) -> str:
    sig = playback_signature(viewer=viewer, stream=stream, expires=expires)
    return f"/v/{viewer}/{expires}/{sig}/{quote(stream, safe='')}/{file}"


def signed_playback_url(viewer, stream: str, *, now: float | None = None) -> tuple[str, int]:
    """(absolute playlist URL, expiry as a Unix time) for this viewer and stream."""
    expires = int(now if now is not None else time.time()) + settings.PLAYBACK_URL_TTL
    path = playback_path(viewer=viewer_token(viewer), stream=stream, expires=expires)
    return settings.MEDIA_PUBLIC_URL + path, expires

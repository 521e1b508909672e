"""Signed playback URLs checked by nginx ``secure_link`` with no call to Python.

``/v/<viewer>/<show>/<expires>/<sig>/<stream>/index.m3u8``: the token sits in
the path, so the playlist's relative segment URLs inherit it.  nginx computes
``md5("<expires>:<viewer>:<show>:<stream>:<secret>")`` (base64url, unpadded)
and compares it with ``<sig>``; the secret comes last so the MD5 construction
cannot be length-extended.

``index.m3u8`` is the master playlist of the adaptive ladder; it lists
``<stream>_<rung>/index.m3u8``, whose segments sit in the same folder, so
every rendition's playlist and segments carry the same signed prefix.

nginx serves ``<media var>/live/<show>/<file>``: a folder of links to the
stream's master playlist and rendition folders that exists only while that
show is live (made at go-live, removed when it ends).  So a URL minted for one show stops the moment the room moves
on to another (a paid or private one), not at its expiry.  A private session
gets its own folder, ``live/p<session>/``, which replaces the show's for the
private's length (so the public's URLs stop at once) and is replaced by it
again when the private ends.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import shutil
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings

PLAYLIST = "index.m3u8"
logger = logging.getLogger(__name__)


def viewer_token(viewer) -> str:
    """Which viewer a URL is bound to: the user id, or ``anon`` for the
    public shows anonymous visitors may watch."""
    if viewer is not None and viewer.is_authenticated:
        return f"u{viewer.pk}"
    return "anon"


def playback_signature(*, viewer: str, show: int, stream: str, expires: int, secret: str | None = None) -> str:
    secret = settings.MEDIA_PLAYBACK_SECRET if secret is None else secret
    message = f"{expires}:{viewer}:{show}:{stream}:{secret}".encode()
    # MD5 because nginx secure_link_md5 offers nothing else; see the module docstring.
    digest = hashlib.md5(message, usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def media_folder(show_id: int, session: int | None = None) -> str:
    """The folder (and signed ``<show>`` part) of a show's public playback,
    or of one private session in it (``p<session>``): the room's media is
    served from exactly one of them at a time."""
    return f"p{int(session)}" if session is not None else str(int(show_id))


def playback_path(*, viewer: str, show, stream: str, expires: int, file: str = PLAYLIST) -> str:
    folder = show if isinstance(show, str) and show.startswith("p") else str(int(show))
    sig = playback_signature(viewer=viewer, show=folder, stream=stream, expires=expires)
    return f"/v/{viewer}/{folder}/{expires}/{sig}/{quote(stream, safe='')}/{file}"


def signed_playback_url(viewer, show, *, session: int | None = None, now: float | None = None) -> tuple[str, int]:
    """(absolute playlist URL, expiry as a Unix time) for this viewer and show
    (or private ``session`` of it).  Callers ask ``access`` first; this only signs."""
    expires = int(now if now is not None else time.time()) + settings.PLAYBACK_URL_TTL
    folder = media_folder(show.pk, session)
    path = playback_path(viewer=viewer_token(viewer), show=folder, stream=show.performer.username, expires=expires)
    return settings.MEDIA_PUBLIC_URL + path, expires


# --- the per-show folder nginx serves from -------------------------------------------


def live_dir() -> Path:
    return Path(settings.MEDIA_VAR_DIR) / "live"


def _hls_dir() -> Path:
    return Path(settings.MEDIA_VAR_DIR) / "hls"


def master_playlist(stream: str) -> Path:
    """Written by nginx-rtmp (hls_variant): <var>/hls/<stream>.m3u8."""
    return _hls_dir() / f"{stream.lstrip('.')}.m3u8"


def rendition_dir(stream: str, rung) -> Path:
    """One rung's playlist and segments (hls_nested): <var>/hls/<stream><suffix>/."""
    return _hls_dir() / f"{stream.lstrip('.')}{rung.suffix}"


def _serves(folder: Path, master: Path) -> bool:
    entry = folder / PLAYLIST
    return entry.is_symlink() and Path(os.readlink(entry)) == master


def _remove(entry: Path) -> None:
    if entry.is_symlink() or entry.is_file():
        entry.unlink(missing_ok=True)
    elif entry.is_dir():
        # Only links inside: rmtree removes them, never what they point to.
        shutil.rmtree(entry, ignore_errors=True)


def open_show_media(show_id, stream: str) -> None:
    """The show went live (or a private of it started, ``show_id`` =
    ``p<session>``, or ended, back to the show's id): its URLs may now reach
    the stream's renditions.
    ``<var>/live/<show>/`` holds ``index.m3u8`` → the master playlist and one
    link per rung of the ladder → that rung's folder, nothing else, so a
    signed prefix reaches exactly this stream's renditions.  Any other show's
    folder for the same stream (one that ended without us hearing) goes
    first.  Runs on commit of the publish hook; a failure is logged and fails
    closed (nobody can play), never turning the publish into a 500."""
    try:
        folder = live_dir()
        folder.mkdir(parents=True, exist_ok=True)
        master = master_playlist(stream).resolve()
        for entry in folder.iterdir():
            if entry.name != str(show_id) and not entry.name.startswith(".") and _serves(entry, master):
                _remove(entry)
        partial = folder / f".{show_id}.{os.getpid()}.tmp"
        _remove(partial)
        partial.mkdir()
        (partial / PLAYLIST).symlink_to(master)
        for rung in settings.MEDIA_LADDER:
            target = rendition_dir(stream, rung).resolve()
            (partial / target.name).symlink_to(target, target_is_directory=True)
        _remove(folder / str(show_id))
        partial.rename(folder / str(show_id))
    except OSError:
        logger.exception("could not open playback for show %s", show_id)


def close_show_media(show_id) -> None:
    """The show ended: every URL minted for it stops at once."""
    name = show_id if isinstance(show_id, str) and show_id.startswith("p") else str(int(show_id))
    try:
        folder = live_dir() / name
        # One rename, so no request finds the folder half removed.
        doomed = folder.with_name(f".{name}.{os.getpid()}.closing")
        if os.path.lexists(folder):
            folder.rename(doomed)
            _remove(doomed)
    except FileNotFoundError:
        pass  # closed already (idempotent)
    except OSError:
        logger.exception("could not close playback for show %s", show_id)

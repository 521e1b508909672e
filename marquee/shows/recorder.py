"""Start and stop nginx-rtmp's ``private`` recorder for one stream, through
the rtmp_control endpoint of the project's own nginx (loopback and the hook
secret only; see ``media_server``).

Why nginx records (not an ffmpeg we spawn): nginx already holds the stream,
so a recording costs no decoder, no second RTMP pull and no process of ours
to supervise; it closes the file itself when the publish ends, and a web or
worker process restarting between start and stop loses nothing."""

from __future__ import annotations

import logging

import httpx
from django.conf import settings

logger = logging.getLogger(__name__)

RECORDER = "private"
TIMEOUT_SECONDS = 3.0


def _control(action: str, stream: str) -> str | None:
    url = f"{settings.MEDIA_CONTROL_URL}/control/record/{action}"
    params = {"app": "live", "name": stream, "rec": RECORDER}
    try:
        response = httpx.get(
            url, params=params, headers={"X-Media-Token": settings.MEDIA_HOOK_SECRET}, timeout=TIMEOUT_SECONDS
        )
    except httpx.HTTPError:
        logger.warning("media control %s for %s failed", action, stream, exc_info=True)
        return None
    if response.status_code != 200:
        logger.warning("media control %s for %s answered %s", action, stream, response.status_code)
        return None
    # nginx-rtmp answers with the recording's path (empty when nothing was recording).
    return response.text.strip() or None


def start(stream: str) -> str | None:
    """The path nginx records ``stream`` to, or None if it could not start
    (the stream is not publishing, or the media server is down)."""
    return _control("start", stream)


def stop(stream: str) -> str | None:
    return _control("stop", stream)

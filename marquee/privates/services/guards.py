"""Checks that open several private-show writes (requests and group shows)."""

from __future__ import annotations

from marquee.privates.services.core import PrivateError, _require_live, _room_busy
from marquee.shows.models import Show


def require_room_owner(actor, performer) -> None:
    """Only the room's performer changes its private settings or group shows;
    anyone else is told the room does not exist (404: we don't say it does)."""
    if actor is None or actor.pk != performer.user_id:
        raise PrivateError("not_found", "This room does not exist.", 404)


def require_free_live_room(performer, *, busy_message: str) -> Show:
    """The room's live show, refusing when the room is offline or already in a
    private or group show."""
    live = _require_live(performer)
    if _room_busy(performer):
        raise PrivateError("room_busy", busy_message, 409)
    return live

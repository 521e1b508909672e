from __future__ import annotations

from marquee.lib import realtime
from marquee.shows.models import Show

# Who may watch a show, and what they could buy to, is decided in
# marquee.access.selectors (the one entitlement module), not here.


def current_show(performer) -> Show | None:
    return performer.shows.filter(status=Show.Status.LIVE).first()


def live_status(performer) -> dict | None:
    """For the performer's own dashboard: their show while it is live and how
    many watch it (the chat's count, as on the room page); None otherwise."""
    show = current_show(performer)
    if show is None:
        return None
    username = performer.user.username
    return {"show": show, "viewers": realtime.viewer_counts([username]).get(username, 0)}


def upcoming_shows(performer, limit: int = 5):
    return performer.shows.filter(status=Show.Status.SCHEDULED).order_by("scheduled_start")[:limit]

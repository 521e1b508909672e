from __future__ import annotations

from marquee.shows.models import Show

# Who may watch a show, and what they could buy to, is decided in
# marquee.access.selectors (the one entitlement module), not here.


def current_show(performer) -> Show | None:
    return performer.shows.filter(status=Show.Status.LIVE).first()


def upcoming_shows(performer, limit: int = 5):
    return performer.shows.filter(status=Show.Status.SCHEDULED).order_by("scheduled_start")[:limit]

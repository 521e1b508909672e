from __future__ import annotations

from celery import shared_task

from marquee.shows import thumbnails


@shared_task(ignore_result=True)
def refresh_live_thumbnail(username: str) -> None:
    """The public card's frame: captured only while a show anyone may watch
    is live; a paid or private show's frames never reach it."""
    from marquee.access import selectors as access
    from marquee.shows.models import Show

    show = Show.objects.filter(performer__user__username=username, status=Show.Status.LIVE).first()
    if show is None or not access.free_to_watch(show):
        thumbnails.discard_thumbnail(username)
        return
    thumbnails.refresh_thumbnail(username)


@shared_task(ignore_result=True)
def media_watchdog(now=None) -> int:
    """End shows whose media server went silent; their running private
    shows (subscribed to ``show.stream_lost``) stop billing from the last
    sign of life and end as "stream dropped" once the privates grace passes."""
    from marquee.shows import services

    return len(services.end_silent_shows(now=now))

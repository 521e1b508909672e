from __future__ import annotations

from celery import shared_task

from marquee.shows import thumbnails


@shared_task(ignore_result=True)
def refresh_live_thumbnail(username: str) -> None:
    thumbnails.refresh_thumbnail(username)

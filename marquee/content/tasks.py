from __future__ import annotations

import logging

from celery import shared_task
from django.core.files.base import ContentFile

from marquee.content.models import MediaItem
from marquee.content.previews import image_previews, video_previews

log = logging.getLogger(__name__)


@shared_task(name="marquee.content.tasks.make_previews")
def make_previews(item_id: int) -> str:
    """Make the thumbnail and preview of one upload.  Safe to run twice."""
    item = MediaItem.objects.filter(pk=item_id).first()
    if item is None:
        return "gone"
    if item.status == MediaItem.Status.READY and item.thumbnail:
        return "done"
    try:
        if item.kind == MediaItem.Kind.IMAGE:
            with item.file.open("rb") as handle:
                thumb, preview = image_previews(handle)
        else:
            thumb, preview = video_previews(item.file.path)
    except Exception:  # a file that decoded at upload but not now: mark it, don't retry forever
        log.exception("previews failed for media item %s", item_id)
        MediaItem.objects.filter(pk=item_id).update(status=MediaItem.Status.FAILED)
        return "failed"
    item.thumbnail.save(f"{item.pk}-thumb.jpg", ContentFile(thumb), save=False)
    item.preview.save(f"{item.pk}-preview.jpg", ContentFile(preview), save=False)
    MediaItem.objects.filter(pk=item_id).update(
        thumbnail=item.thumbnail.name, preview=item.preview.name, status=MediaItem.Status.READY
    )
    return "ready"

"""Photo and video sets: uploads are stored privately (outside MEDIA_ROOT)
and only ever served through signed, expiring URLs."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q

from marquee.performers.models import Performer


def private_storage() -> FileSystemStorage:
    # A callable so tests can point CONTENT_ROOT at a temporary folder.
    return FileSystemStorage(location=settings.CONTENT_ROOT, base_url=None)


class MediaSet(models.Model):
    performer = models.ForeignKey(Performer, on_delete=models.CASCADE, related_name="media_sets")
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=2000)
    # Fan-club members see it at no extra cost …
    free_for_subscribers = models.BooleanField(default=True)
    # … and/or anyone may buy it for tokens (0 = not for sale).
    price_tokens = models.PositiveIntegerField(default=0)
    is_published = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(free_for_subscribers=True) | Q(price_tokens__gt=0), name="mediaset_has_a_way_in"
            )
        ]

    def __str__(self) -> str:
        return self.title


class MediaItem(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image", "Photo"
        VIDEO = "video", "Video"

    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    media_set = models.ForeignKey(MediaSet, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=5, choices=Kind.choices)
    file = models.FileField(storage=private_storage, upload_to="originals/%Y/%m/")
    mime = models.CharField(max_length=60)
    size_bytes = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    thumbnail = models.FileField(storage=private_storage, upload_to="thumbs/%Y/%m/", blank=True)
    preview = models.FileField(storage=private_storage, upload_to="previews/%Y/%m/", blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROCESSING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]


class ContentPurchase(models.Model):
    """Who bought which set.  Written by the purchase service in the same
    transaction as its ledger transfer (``ledger_reference``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="content_purchases")
    media_set = models.ForeignKey(MediaSet, on_delete=models.PROTECT, related_name="purchases")
    price_tokens = models.PositiveIntegerField()
    ledger_reference = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "media_set"], name="contentpurchase_once")]

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Interaction(models.Model):
    """One piece of implicit feedback: a viewer watched, followed, tipped,
    bought a ticket, subscribed or chatted.  ``amount`` is seconds for watch,
    tokens for tip, messages for chat, 1 otherwise."""

    class Kind(models.TextChoices):
        WATCH = "watch", "Watched (seconds)"
        FOLLOW = "follow", "Followed"
        TIP = "tip", "Tipped (tokens)"
        TICKET = "ticket", "Bought a ticket"
        SUBSCRIPTION = "subscription", "Subscribed"
        CHAT = "chat", "Chatted (messages)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    performer = models.ForeignKey("performers.Performer", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["user", "performer"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="interaction_amount_positive"),
            models.CheckConstraint(
                condition=Q(kind__in=["watch", "follow", "tip", "ticket", "subscription", "chat"]),
                name="interaction_kind_valid",
            ),
        ]


class ViewerBlock(models.Model):
    """ "Hide this performer": never recommend them to this viewer again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hidden_performers")
    performer = models.ForeignKey("performers.Performer", on_delete=models.CASCADE, related_name="hidden_by")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "performer"], name="viewerblock_unique")]

from __future__ import annotations

from django.db import models
from django.db.models import Q

from marquee.performers.models import Performer, ShowKind


class Show(models.Model):
    """One broadcast: scheduled → live → ended (or cancelled before it starts)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        LIVE = "live", "Live"
        ENDED = "ended", "Ended"
        CANCELLED = "cancelled", "Cancelled"

    performer = models.ForeignKey(Performer, on_delete=models.PROTECT, related_name="shows")
    title = models.CharField(max_length=120)
    kind = models.CharField(max_length=12, choices=ShowKind.choices, default=ShowKind.PUBLIC)
    # What a ticket costs for a premium show (cents); 0 for other kinds.
    price_cents = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED, db_index=True)
    scheduled_start = models.DateTimeField(null=True, blank=True, db_index=True)
    expected_minutes = models.PositiveIntegerField(default=60)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    peak_viewers = models.PositiveIntegerField(default=0)
    # Set when this show is one occurrence of a recurring schedule.
    schedule_rule = models.ForeignKey(
        "schedule.ScheduleRule", on_delete=models.SET_NULL, null=True, blank=True, related_name="shows"
    )
    # The media server's id of the publishing connection while live: hooks
    # from any other connection (a refused duplicate, a stale one) are ignored.
    media_session = models.CharField(max_length=64, blank=True)
    media_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at", "scheduled_start"]
        permissions = [("end_show", "Can end a live show")]
        constraints = [
            # At most one live show per performer, enforced by the database.
            models.UniqueConstraint(
                fields=["performer"], condition=Q(status="live"), name="show_one_live_per_performer"
            ),
            models.CheckConstraint(condition=~Q(kind="premium") | Q(price_cents__gt=0), name="show_premium_has_price"),
        ]
        indexes = [models.Index(fields=["performer", "status"])]

    def __str__(self) -> str:
        return f"{self.performer} — {self.title}"

    @property
    def is_live(self) -> bool:
        return self.status == self.Status.LIVE

"""Recurring schedules and follower notifications.  The tables keep the names
they had when these models lived in ``shows``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from marquee.performers.models import Performer, ShowKind


class ScheduleRule(models.Model):
    """A recurring show, e.g. every Tuesday and Friday at 21:00 in the
    performer's timezone.  Occurrences are materialized as ``Show`` rows a few
    weeks ahead (so rooms, tickets and reminders work on ordinary shows)."""

    performer = models.ForeignKey(Performer, on_delete=models.CASCADE, related_name="schedule_rules")
    title = models.CharField(max_length=120)
    kind = models.CharField(max_length=12, choices=ShowKind.choices, default=ShowKind.PUBLIC)
    price_cents = models.PositiveIntegerField(default=0)
    expected_minutes = models.PositiveIntegerField(default=60)
    # RFC 5545 RRULE without DTSTART, e.g. "FREQ=WEEKLY;BYDAY=TU,FR".
    rrule = models.CharField(max_length=200)
    # Wall-clock start in ``timezone``; expansion happens in local time so
    # 21:00 stays 21:00 across DST changes.
    start_time = models.TimeField()
    starts_on = models.DateField()
    until = models.DateField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    # Drafts are visible to the performer only and create no shows.
    is_published = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "shows_schedulerule"
        ordering = ["starts_on", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="premium") | Q(price_cents__gt=0), name="schedulerule_premium_has_price"
            ),
            models.CheckConstraint(
                condition=Q(expected_minutes__gte=5) & Q(expected_minutes__lte=24 * 60),
                name="schedulerule_length_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.performer} — {self.title} ({self.rrule})"


class Notification(models.Model):
    """An in-app notification.  ``(user, show, kind)`` is unique so the reminder
    task can run any number of times and notify each follower once."""

    class Kind(models.TextChoices):
        SHOW_REMINDER = "show_reminder", "Show reminder"
        SHOW_CANCELLED = "show_cancelled", "Show cancelled"
        SHOW_LIVE = "show_live", "Live now"
        AGE_VERIFICATION = "age_verification", "Age verification decided"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    show = models.ForeignKey("shows.Show", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "shows_notification"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "show", "kind"], condition=Q(show__isnull=False), name="notification_once_per_show"
            )
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="shows_notif_user_id_92e857_idx")]


# Devices that receive go-live pushes (marquee.schedule.golive).
from marquee.schedule.golive_models import PushSubscription  # noqa: E402,F401

"""Private, exclusive, spy and group shows billed per period on ledger holds.

One ``PrivateShow`` row is one payer's billed session: a private or exclusive
show (requested → accepted or declined/expired), a spy watching a private
(``parent``), or a pledge to a group show (``group``).  Every session escrows
its tokens in one ledger ``Hold``; ``periods_charged`` periods have been
posted from it.  Only ``privates.services`` writes these rows.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q

from marquee.lib.geo import Location


class RoomPrivateSettings(models.Model):
    """A room's private-show prices (tokens per minute = per billing period)."""

    performer = models.OneToOneField("performers.Performer", on_delete=models.CASCADE, related_name="private_settings")
    privates_enabled = models.BooleanField(default=False)
    rate_tokens = models.PositiveIntegerField(default=30)
    minimum_minutes = models.PositiveSmallIntegerField(default=1)
    exclusive_enabled = models.BooleanField(default=False)
    exclusive_rate_tokens = models.PositiveIntegerField(default=60)
    spies_enabled = models.BooleanField(default=False)
    spy_rate_tokens = models.PositiveIntegerField(default=10)
    group_shows_enabled = models.BooleanField(default=False)
    # The payer may send their camera to the performer (never recorded).
    cam2cam_enabled = models.BooleanField(default=False)
    # Private and exclusive shows are recorded for their payer (the performer's
    # stream only: cam2cam never is), kept PRIVATE_RECORDING_RETENTION_DAYS.
    recordings_enabled = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(rate_tokens__gt=0)
                & Q(exclusive_rate_tokens__gt=0)
                & Q(spy_rate_tokens__gt=0)
                & Q(minimum_minutes__gt=0),
                name="privates_settings_positive",
            )
        ]

    def __str__(self) -> str:
        return f"private settings of {self.performer_id}"


class GroupShow(models.Model):
    """A show that starts when ``goal_viewers`` have joined before ``deadline``."""

    class Status(models.TextChoices):
        ANNOUNCED = "announced", "Announced"
        RUNNING = "running", "Running"
        ENDED = "ended", "Ended"
        FAILED = "failed", "Goal missed"

    performer = models.ForeignKey("performers.Performer", on_delete=models.PROTECT, related_name="group_shows")
    rate_tokens = models.PositiveIntegerField()
    goal_viewers = models.PositiveSmallIntegerField()
    deadline = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ANNOUNCED)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["performer"], condition=Q(status__in=["announced", "running"]), name="privates_one_open_group"
            ),
            models.CheckConstraint(condition=Q(rate_tokens__gt=0) & Q(goal_viewers__gt=0), name="privates_group_valid"),
        ]
        indexes = [models.Index(fields=["status", "deadline"], name="privates_group_status_deadline")]

    def __str__(self) -> str:
        return f"group show #{self.pk} ({self.status})"


class PrivateShow(models.Model):
    class Kind(models.TextChoices):
        PRIVATE = "private", "Private"
        EXCLUSIVE = "exclusive", "Exclusive private"
        SPY = "spy", "Spy"
        GROUP = "group", "Group show pledge"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"  # hold placed, waiting for the performer (or the group goal)
        ACTIVE = "active", "Active"  # billed per period
        ENDED = "ended", "Ended"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"

    class EndReason(models.TextChoices):
        PERFORMER = "performer", "Ended by the performer"
        PAYER = "payer", "Ended by the viewer"
        NO_FUNDS = "no_funds", "Out of tokens"
        STREAM_DROPPED = "stream_dropped", "Stream dropped"
        BLOCKED = "blocked", "Viewer banned"
        REGION_BLOCKED = "region_blocked", "The performer blocked the viewer's region"
        PARENT_ENDED = "parent_ended", "The private show ended"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Not answered in time"
        OTHER_ACCEPTED = "other_accepted", "Another request was accepted"
        WITHDRAWN = "withdrawn", "Withdrawn by the viewer"
        GOAL_MISSED = "goal_missed", "Group goal missed"
        SWEPT = "swept", "Closed by the sweeper"

    OPEN = (Status.REQUESTED, Status.ACTIVE)

    performer = models.ForeignKey("performers.Performer", on_delete=models.PROTECT, related_name="private_shows")
    payer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="private_shows")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="spies")
    group = models.ForeignKey(GroupShow, null=True, blank=True, on_delete=models.PROTECT, related_name="pledges")
    # The live broadcast it was requested in.
    show = models.ForeignKey("shows.Show", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Prices frozen when requested: tokens per period, periods charged at least.
    rate_tokens = models.PositiveIntegerField()
    minimum_periods = models.PositiveSmallIntegerField(default=1)
    hold = models.OneToOneField(
        "ledger.Hold", null=True, blank=True, on_delete=models.PROTECT, related_name="private_show"
    )
    periods_charged = models.PositiveIntegerField(default=0)
    # The period the payer was warned their tokens will not cover.
    warned_period = models.PositiveIntegerField(null=True, blank=True)
    requested_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    stream_dropped_at = models.DateTimeField(null=True, blank=True)
    # When the billing worker must next look at an active session (the next
    # period's start, or the drop grace's end); null: at the next tick.
    next_bill_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=EndReason.choices, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Where the payer was when they booked (from their address): a region block
    # added later ends the session if it covers this place ("" when unknown).
    payer_country = models.CharField(max_length=2, blank=True)
    payer_subdivision = models.CharField(max_length=8, blank=True)

    class Meta:
        constraints = [
            # One private or exclusive at a time per room (accept races end here).
            models.UniqueConstraint(
                fields=["performer"],
                condition=Q(status="active", kind__in=["private", "exclusive"]),
                name="privates_one_active_private",
            ),
            # One open session per viewer and room.
            models.UniqueConstraint(
                fields=["performer", "payer"],
                condition=Q(status__in=["requested", "active"]),
                name="privates_one_open_per_payer",
            ),
            models.CheckConstraint(
                condition=(Q(kind="spy", parent__isnull=False) | (~Q(kind="spy") & Q(parent__isnull=True)))
                & (Q(kind="group", group__isnull=False) | (~Q(kind="group") & Q(group__isnull=True))),
                name="privates_kind_links",
            ),
            models.CheckConstraint(
                condition=Q(rate_tokens__gt=0) & Q(minimum_periods__gt=0), name="privates_price_positive"
            ),
            models.CheckConstraint(
                condition=~Q(status="active") | Q(started_at__isnull=False), name="privates_active_has_start"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="privates_status_expires"),
            models.Index(fields=["performer", "status"], name="privates_performer_status"),
            # The worker's due set: active sessions by next_bill_at (one index range scan).
            models.Index(fields=["next_bill_at"], condition=Q(status="active"), name="privates_active_next_bill"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def payer_location(self):
        return Location(self.payer_country or None, self.payer_subdivision or None)


class _ContentRootStorage(FileSystemStorage):
    """With the content files (CONTENT_ROOT: outside MEDIA_ROOT, served only
    through signed URLs), read when used, so tests can point it at a temporary folder."""

    @property
    def base_location(self):
        return str(settings.CONTENT_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)


def recording_storage() -> FileSystemStorage:
    return _ContentRootStorage(base_url=None)


class PrivateRecording(models.Model):
    """The recording of one private or exclusive session, for its payer.

    nginx-rtmp records the performer's stream (``raw_path``, FLV) from the
    session's start to its end; it is then remuxed (no re-encode) into an MP4
    in the content storage, and deleted ``PRIVATE_RECORDING_RETENTION_DAYS``
    after the session ended."""

    class Status(models.TextChoices):
        RECORDING = "recording", "Recording"
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    session = models.OneToOneField(PrivateShow, on_delete=models.CASCADE, related_name="recording")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECORDING)
    raw_path = models.CharField(max_length=500, blank=True)
    file = models.FileField(storage=recording_storage, upload_to="recordings/%Y/%m/", blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    duration_seconds = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="ready") | (Q(expires_at__isnull=False) & ~Q(file="")),
                name="privates_recording_ready_has_file",
            )
        ]
        indexes = [models.Index(fields=["expires_at"], name="privates_recording_expires")]

    def __str__(self) -> str:
        return f"recording of session {self.session_id} ({self.status})"

from __future__ import annotations

from django.conf import settings
from django.db import models


class AccountClosure(models.Model):
    """A closed account.  Personal data is erased at closure; only an
    encrypted copy of the login identity (``restore_name``, a file under
    PRIVATE_MEDIA_ROOT) survives the grace period so the person can reopen,
    and the worker deletes it when the closure becomes final."""

    class Status(models.TextChoices):
        CLOSED = "closed", "Closed (reversible)"
        FINAL = "final", "Final"
        REOPENED = "reopened", "Reopened"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="closure")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CLOSED)
    closed_at = models.DateTimeField()
    final_after = models.DateTimeField(db_index=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    restore_name = models.CharField(max_length=120, blank=True)
    tokens_forfeited = models.PositiveIntegerField(default=0)
    # Keyed digest of the erased e-mail address, only while reopening is
    # possible (marquee.privacy.reopen).
    email_digest = models.CharField(max_length=64, blank=True, db_index=True)

    def __str__(self) -> str:
        return f"closure of user {self.user_id} ({self.status})"


class DataExport(models.Model):
    """A person's data archive, built by the worker and stored encrypted
    under PRIVATE_MEDIA_ROOT until ``expires_at``."""

    class Status(models.TextChoices):
        PENDING = "pending", "Being prepared"
        READY = "ready", "Ready to download"
        EXPIRED = "expired", "Expired"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField()
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    storage_name = models.CharField(max_length=120, blank=True)


class TravelMode(models.Model):
    """A performer's one-switch block of where they are now.  ``countries``
    are the region blocks travel mode added itself (turning it off removes
    only those, never a block the performer set by hand)."""

    performer = models.OneToOneField("performers.Performer", on_delete=models.CASCADE, related_name="travel_mode")
    enabled_at = models.DateTimeField()
    countries = models.JSONField(default=list)

from __future__ import annotations

from django.conf import settings
from django.db import models


class Jurisdiction(models.Model):
    """A platform-wide legal rule for viewers located in a country or one of
    its subdivisions (US state, UK nation).  Staff edit these in the admin;
    the shipped 2026 set comes from a data migration."""

    class Rule(models.TextChoices):
        BLOCKED = "blocked", "Blocked entirely (HTTP 451)"
        VERIFY = "verify", "Age verification required before adult content"

    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2, e.g. US, GB, FR.")
    subdivision = models.CharField(
        max_length=3, blank=True, help_text="ISO 3166-2 suffix (e.g. TX, ENG); empty = the whole country."
    )
    rule = models.CharField(max_length=8, choices=Rule.choices)
    reason = models.CharField(
        max_length=300, blank=True, help_text="Shown to blocked viewers and in the verification prompt."
    )
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["country", "subdivision"]
        constraints = [
            models.UniqueConstraint(fields=["country", "subdivision"], name="jurisdiction_unique_region"),
            models.CheckConstraint(condition=models.Q(rule__in=["blocked", "verify"]), name="jurisdiction_rule_valid"),
        ]

    def __str__(self) -> str:
        region = f"{self.country}-{self.subdivision}" if self.subdivision else self.country
        return f"{region}: {self.get_rule_display()}"


class AgeVerification(models.Model):
    """The outcome of one viewer age check: outcome, method, provider reference
    and dates, nothing more (no document, no birth date)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="age_verifications")
    provider = models.CharField(max_length=20)
    method = models.CharField(max_length=40, blank=True, help_text="e.g. document, id_document+selfie.")
    provider_reference = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    decision_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Sandbox only: the uploaded document, encrypted; deleted after the decision.
    document_path = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~models.Q(provider_reference=""),
                name="ageverification_unique_reference",
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending") | models.Q(decided_at__isnull=False),
                name="ageverification_decided_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.provider} · {self.status}"


class WebhookReceipt(models.Model):
    """Each verification webhook delivery we accepted, once: a replay of the
    same event is refused by the unique constraint."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=128)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="webhookreceipt_unique")]


class PerformerRecord(models.Model):
    """18 U.S.C. 2257 record for a performer: legal identity, every other name
    used, ID documents (encrypted files) and the staff decision."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    performer = models.OneToOneField("performers.Performer", on_delete=models.PROTECT, related_name="record")
    legal_name = models.CharField(max_length=200, db_index=True)
    date_of_birth = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    rejection_reason = models.CharField(max_length=500, blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["legal_name"]
        permissions = [
            ("view_id_documents", "Custodian of records: may view ID documents and export records"),
            ("revoke_verification", "Can revoke an approved performer verification"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="rejected") | ~models.Q(rejection_reason=""),
                name="performerrecord_rejection_has_reason",
            )
        ]

    def __str__(self) -> str:
        return f"{self.legal_name} ({self.performer})"


class RecordAlias(models.Model):
    """Another name the performer used (stage names, aliases, maiden names)."""

    record = models.ForeignKey(PerformerRecord, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=200, db_index=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["record", "name"], name="recordalias_unique")]

    def __str__(self) -> str:
        return self.name


class RecordDocument(models.Model):
    """An ID image or selfie, stored encrypted (Fernet, RECORDS_ENCRYPTION_KEY)
    outside the public media folder."""

    class Kind(models.TextChoices):
        ID_FRONT = "id_front", "Government ID (front)"
        ID_BACK = "id_back", "Government ID (back)"
        SELFIE = "selfie", "Selfie holding the ID"

    record = models.ForeignKey(PerformerRecord, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    storage_name = models.CharField(max_length=200, unique=True)
    content_type = models.CharField(max_length=60)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["record", "kind"], name="recorddocument_one_per_kind")]

    def __str__(self) -> str:
        return f"{self.record.legal_name}: {self.get_kind_display()}"


class ShowPerformer(models.Model):
    """Who appears in a show besides its host (co-performers): the 2257
    cross-reference from records to shows.  Each must be verified."""

    show = models.ForeignKey("shows.Show", on_delete=models.CASCADE, related_name="co_performers")
    performer = models.ForeignKey("performers.Performer", on_delete=models.PROTECT, related_name="appearances")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["show", "performer"], name="showperformer_unique")]

    def __str__(self) -> str:
        return f"{self.performer} in {self.show_id}"

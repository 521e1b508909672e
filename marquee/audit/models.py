"""The hash-chained audit log (``manage.py audit_verify`` checks it)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """Append-only, hash-chained record of security- and money-relevant events.

    ``entry_hash`` covers this row's content and the previous row's hash in
    the same ``chain``, so editing or deleting any row breaks that chain from
    there on (``manage.py audit_verify``).  On PostgreSQL a trigger refuses
    UPDATE and DELETE outright.  There are AUDIT_CHAINS parallel chains so
    concurrent transactions do not queue behind one lock until they commit.
    """

    chain = models.PositiveSmallIntegerField(default=0)
    sequence = models.BigIntegerField()
    created_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=80, db_index=True)
    # The chain covers ip_digest (HMAC of ip under ip_salt), not ip: retention
    # blanks ip and ip_salt past PRIVACY_AUDIT_IP_DAYS (chain.new_ip_fields).
    ip = models.CharField(max_length=45, blank=True)
    ip_salt = models.CharField(max_length=32, blank=True)
    ip_digest = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=80, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        # The table keeps the name it had in compliance (raw SQL, trigger).
        db_table = "compliance_auditevent"
        ordering = ["created_at", "chain", "sequence"]
        constraints = [models.UniqueConstraint(fields=["chain", "sequence"], name="auditevent_chain_sequence")]
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["actor", "created_at"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.chain}.{self.sequence} {self.action}"

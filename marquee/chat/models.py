from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ChatMessage(models.Model):
    """One chat message.  ``seq`` is the room event id it was published under
    (null while held for review).  Rows are written in batches after the
    message went out, so the database is not on the hot path."""

    class State(models.TextChoices):
        VISIBLE = "visible", "Visible"
        DELETED = "deleted", "Deleted by a moderator"
        HELD = "held", "Held for review"
        REJECTED = "rejected", "Rejected on review"

    performer = models.ForeignKey("performers.Performer", on_delete=models.CASCADE, related_name="chat_messages")
    seq = models.BigIntegerField(null=True, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    author_name = models.CharField(max_length=30, blank=True)
    author_role = models.CharField(max_length=10, default="viewer")  # viewer, moderator, performer
    text = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.VISIBLE)
    flags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    # Said in a private or group show ("p12", "g3"): only those in it read it
    # (``access.chat`` says who); "" is the public chat.
    audience = models.CharField(max_length=12, blank=True, default="")

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["performer", "seq"], name="chatmessage_unique_room_seq"),
            models.CheckConstraint(
                condition=Q(seq__isnull=False) | Q(state="held") | Q(state="rejected"),
                name="chatmessage_published_has_seq",
            ),
        ]
        indexes = [
            models.Index(fields=["performer", "state", "seq"]),
            models.Index(fields=["performer", "author", "created_at"]),
        ]


class ChatBan(models.Model):
    """A ban or timeout.  ``performer`` null means site-wide (staff);
    ``expires_at`` null means until lifted."""

    class Kind(models.TextChoices):
        TIMEOUT = "timeout", "Timeout"
        BAN = "ban", "Ban"

    performer = models.ForeignKey(
        "performers.Performer", on_delete=models.CASCADE, null=True, blank=True, related_name="chat_bans"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_bans")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "performer"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="timeout") | Q(expires_at__isnull=False), name="chatban_timeout_expires"
            ),
        ]


class ChatRoomRules(models.Model):
    """Per-room moderation settings layered over ``settings.CHAT_MODERATION``."""

    performer = models.OneToOneField("performers.Performer", on_delete=models.CASCADE, related_name="chat_rules")
    overrides = models.JSONField(default=dict, blank=True)  # any CHAT_MODERATION key
    blocked_words = models.JSONField(default=list, blank=True)
    regex_rules = models.JSONField(default=list, blank=True)
    secret_words = models.JSONField(default=list, blank=True)  # real name, home city: redacted for everyone


class ModerationAction(models.Model):
    """The room's moderation log (the audit chain holds the same actions)."""

    performer = models.ForeignKey("performers.Performer", on_delete=models.CASCADE, related_name="moderation_log")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=30)
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

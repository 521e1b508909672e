from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ShowKind(models.TextChoices):
    PUBLIC = "public", "Public (free)"
    PREMIUM = "premium", "Premium (ticket)"
    SUBSCRIBERS = "subscribers", "Subscribers only"
    PRIVATE = "private", "Private"


class Tag(models.Model):
    class Kind(models.TextChoices):
        TAG = "tag", "Tag"
        CATEGORY = "category", "Category"
        LANGUAGE = "language", "Language"

    slug = models.SlugField(max_length=40)
    label = models.CharField(max_length=60)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TAG)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "slug"], name="tag_unique_kind_slug")]
        ordering = ["kind", "label"]

    def __str__(self) -> str:
        return self.label


class Performer(models.Model):
    """A user's performer profile and room.  Exists from the moment they apply;
    ``verification_status`` says whether they may go live and earn."""

    class Verification(models.TextChoices):
        UNVERIFIED = "unverified", "Not submitted"
        PENDING = "pending", "Pending review"
        VERIFIED = "verified", "Verified"
        REJECTED = "rejected", "Rejected"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="performer")
    display_name = models.CharField(max_length=60)
    bio = models.TextField(blank=True, max_length=2000)
    avatar = models.ImageField(upload_to="avatars/", blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="performers")
    timezone = models.CharField(max_length=64, default="UTC")

    verification_status = models.CharField(
        max_length=12, choices=Verification.choices, default=Verification.UNVERIFIED, db_index=True
    )
    is_suspended = models.BooleanField(default=False)
    suspended_reason = models.CharField(max_length=300, blank=True)

    # Stream key: only a hash is stored; the secret is shown once.
    stream_key_hash = models.CharField(max_length=128, blank=True)
    stream_key_rotated_at = models.DateTimeField(null=True, blank=True)

    # Room settings.
    room_topic = models.CharField(max_length=200, blank=True)
    default_show_kind = models.CharField(max_length=12, choices=ShowKind.choices, default=ShowKind.PUBLIC)
    default_ticket_price_cents = models.PositiveIntegerField(default=499)
    subscription_price_cents = models.PositiveIntegerField(default=999)
    private_show_price_cents = models.PositiveIntegerField(default=2999)
    tip_goal_tokens = models.PositiveIntegerField(default=0)
    tip_goal_label = models.CharField(max_length=120, blank=True)
    anonymous_can_read_chat = models.BooleanField(default=True)
    chat_slow_mode_seconds = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name"]
        permissions = [("suspend_performer", "Can suspend and unsuspend performers")]
        constraints = [
            models.CheckConstraint(
                condition=Q(default_ticket_price_cents__gte=0)
                & Q(subscription_price_cents__gte=0)
                & Q(private_show_price_cents__gte=0)
                & Q(tip_goal_tokens__gte=0),
                name="performer_prices_non_negative",
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def is_verified(self) -> bool:
        return self.verification_status == self.Verification.VERIFIED


class RegionBlock(models.Model):
    """A region where this performer does not want to be seen.  ``subdivision``
    empty means the whole country."""

    performer = models.ForeignKey(Performer, on_delete=models.CASCADE, related_name="region_blocks")
    country = models.CharField(max_length=2)
    subdivision = models.CharField(max_length=3, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["performer", "country", "subdivision"], name="regionblock_unique"),
        ]
        indexes = [models.Index(fields=["country", "subdivision"])]

    def __str__(self) -> str:
        return f"{self.country}-{self.subdivision}" if self.subdivision else self.country


class RoomModerator(models.Model):
    performer = models.ForeignKey(Performer, on_delete=models.CASCADE, related_name="moderators")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderates")
    appointed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["performer", "user"], name="roommoderator_unique")]


class TipMenuItem(models.Model):
    performer = models.ForeignKey(Performer, on_delete=models.CASCADE, related_name="tip_menu")
    label = models.CharField(max_length=80)
    tokens = models.PositiveIntegerField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "tokens"]
        constraints = [models.CheckConstraint(condition=Q(tokens__gt=0), name="tipmenu_tokens_positive")]


class Follow(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows")
    performer = models.ForeignKey(Performer, on_delete=models.CASCADE, related_name="followers")
    created_at = models.DateTimeField(auto_now_add=True)
    # Go-live notifications, each opt-in per follow (marquee.schedule.golive).
    notify_app = models.BooleanField(default=False)
    notify_email = models.BooleanField(default=False)
    notify_push = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "performer"], name="follow_unique")]

from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MinLengthValidator, RegexValidator
from django.db import models
from django.utils import timezone

# Public names appear in URLs (rooms, RTMP paths): keep them URL- and path-safe.
username_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9_-]{1,28}[a-z0-9])?$",
    "Use 3-30 lowercase letters, digits, '-' or '_', starting and ending with a letter or digit.",
)


def age_on(date_of_birth: datetime.date, today: datetime.date) -> int:
    years = today.year - date_of_birth.year
    if (today.month, today.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


class MarqueeUserManager(UserManager):
    def get_by_natural_key(self, username):
        # Admin and `createsuperuser` identify people by e-mail, like the site.
        return self.get(**{f"{self.model.EMAIL_FIELD}__iexact": username})


class User(AbstractUser):
    """A person on the platform.  Everyone is a viewer; other roles are
    separate rows (Performer, RoomModerator) or ``is_staff``."""

    username = models.CharField(
        max_length=30,
        unique=True,
        validators=[username_validator, MinLengthValidator(3)],
        help_text="Public name, shown in rooms and chat.",
    )
    email = models.EmailField("email address", unique=True)
    date_of_birth = models.DateField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    # Quick tip buttons spend at once unless the viewer wants to be asked first.
    confirm_tips = models.BooleanField(default=True, help_text="Ask before a quick tip button spends tokens.")

    objects = MarqueeUserManager()

    REQUIRED_FIELDS = ["email"]

    class Meta:
        indexes = [models.Index(fields=["date_joined"])]
        permissions = [("suspend_user", "Can suspend and unsuspend accounts")]

    def age(self, today: datetime.date | None = None) -> int | None:
        if self.date_of_birth is None:
            return None
        return age_on(self.date_of_birth, today or timezone.localdate())

    @property
    def is_adult(self) -> bool:
        from django.conf import settings

        age = self.age()
        return age is not None and age >= settings.MINIMUM_AGE

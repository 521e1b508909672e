"""Discretion for mail to people: who the mail is from and what its subject
says must not reveal what the site is (a shared inbox, a lock screen).  The
prefix, sender name and whether subjects may name performers or purchases are
settings (``MAIL_SUBJECT_PREFIX``, ``MAIL_SENDER_NAME``, ``MAIL_DISCREET``)."""

from __future__ import annotations

from email.utils import formataddr, parseaddr

from django.conf import settings


def subject(neutral: str, detailed: str = "") -> str:
    """``neutral`` names nothing (no performer, no product); ``detailed`` is
    used only when the operator turned discretion off."""
    text = detailed if detailed and not settings.MAIL_DISCREET else neutral
    return f"{settings.MAIL_SUBJECT_PREFIX}{text}"


def sender() -> str:
    """``DEFAULT_FROM_EMAIL`` with the configured neutral display name."""
    if not settings.MAIL_SENDER_NAME:
        return settings.DEFAULT_FROM_EMAIL
    return formataddr((settings.MAIL_SENDER_NAME, parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))

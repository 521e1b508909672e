"""Helpers for other apps' tests: mark a user age-verified."""

from __future__ import annotations

from django.utils import timezone

from marquee.compliance.models import AgeVerification


def approve_age(user) -> AgeVerification:
    return AgeVerification.objects.create(
        user=user,
        provider="sandbox",
        method="document",
        status=AgeVerification.Status.APPROVED,
        decided_at=timezone.now(),
    )

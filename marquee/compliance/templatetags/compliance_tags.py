from __future__ import annotations

import datetime

from django import template
from django.conf import settings

from marquee.compliance import selectors

register = template.Library()


@register.simple_tag
def age_verification_status(user) -> dict:
    current = selectors.current_age_verification(user)
    return {
        "verified": selectors.is_age_verified(user),
        "until": current.decided_at + datetime.timedelta(days=settings.AGE_VERIFICATION_VALID_DAYS)
        if current
        else None,
        "pending": selectors.pending_age_verification(user) is not None,
    }

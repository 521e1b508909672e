"""Notifications for what lower layers decide (domain events sent on commit),
so compliance never imports the notifications it causes.  Wired in
``ScheduleConfig.ready``."""

from __future__ import annotations

from django.urls import reverse

from marquee.lib import domain_events
from marquee.schedule.models import Notification


def on_age_verification_decided(*, user_id, verification_id, approved) -> None:
    if approved:
        text = "Your age is verified: you can buy tokens, tip and watch paid shows."
    else:
        text = "Your age verification was declined. Open it to see why and try again."
    Notification.objects.create(
        user_id=user_id, kind=Notification.Kind.AGE_VERIFICATION, text=text, url=reverse("age_verification")
    )


def connect() -> None:
    domain_events.subscribe("age_verification.decided", on_age_verification_decided)

"""What the schedule does when lower layers report something
(``marquee.lib.domain_events``, sent on commit), so they never import the
notifications and refunds they cause: a show that ended is settled in the
worker (its tickets are refunded if it was too short, ``escrow``), a show that
started notifies followers (``golive``, in the worker), an age-verification
decision becomes an in-app notification.  Wired in ``ScheduleConfig.ready``."""

from __future__ import annotations

from django.urls import reverse

from marquee.lib import domain_events
from marquee.schedule.models import Notification


def on_show_ended(*, show_id, **_) -> None:
    from marquee.schedule import tasks

    tasks.settle_ended_show.delay(show_id)


def on_show_started(*, show_id, **_) -> None:
    from marquee.schedule import tasks

    tasks.notify_followers_live.delay(show_id)


def on_age_verification_decided(*, user_id, verification_id, approved) -> None:
    if approved:
        text = "Your age is verified: you can buy tokens, tip and watch paid shows."
    else:
        text = "Your age verification was declined. Open it to see why and try again."
    Notification.objects.create(
        user_id=user_id, kind=Notification.Kind.AGE_VERIFICATION, text=text, url=reverse("age_verification")
    )


def connect() -> None:
    domain_events.subscribe("show.ended", on_show_ended)
    domain_events.subscribe("show.started", on_show_started)
    domain_events.subscribe("age_verification.decided", on_age_verification_decided)

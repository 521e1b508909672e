"""Demo schedule: upcoming shows, one of them premium with a price."""

from __future__ import annotations

import datetime

from django.utils import timezone

from marquee.performers.models import Performer
from marquee.shows.models import Show

UPCOMING = [
    ("performer1", "Friday night requests", "public", 0, 1),
    ("performer2", "Late-night premium cook-along", "premium", 799, 2),
    ("performer3", "Sketch club", "public", 0, 3),
]


def seed(out) -> None:
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for username, title, kind, price, days in UPCOMING:
        performer = Performer.objects.get(user__username=username)
        if performer.shows.filter(status=Show.Status.SCHEDULED, title=title).exists():
            continue
        Show.objects.create(
            performer=performer,
            title=title,
            kind=kind,
            price_cents=price,
            scheduled_start=now + datetime.timedelta(days=days, hours=2),
            expected_minutes=90,
        )
    from marquee.shows import schedule_demo

    schedule_demo.seed(out)

"""Demo recurring schedules (called from ``shows.demo``)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from marquee.performers.models import Performer
from marquee.schedule import recurrence, services

RULES = [
    ("performer1", "Europe/London", "Tuesday & Friday requests", "public", 0, ["TU", "FR"], datetime.time(21, 0)),
    ("performer2", "America/New_York", "Sunday premium cook-along", "premium", 699, ["SU"], datetime.time(19, 30)),
    ("performer3", "Europe/Paris", "Morning sketch club", "subscribers", 0, ["MO", "WE"], datetime.time(9, 0)),
]


def seed(out) -> None:
    for username, zone, title, kind, price, days, start in RULES:
        performer = Performer.objects.get(user__username=username)
        if performer.schedule_rules.filter(title=title).exists():
            continue
        if performer.timezone == "UTC":
            performer.timezone = zone
            performer.save(update_fields=["timezone"])
        try:
            services.create_schedule_rule(
                performer=performer,
                title=title,
                kind=kind,
                weekdays=days,
                start_time=start,
                starts_on=timezone.now().date() + datetime.timedelta(days=1),
                expected_minutes=90,
                price_cents=price,
            )
        except recurrence.ScheduleError as exc:
            out.write(f"demo schedule for {username} skipped: {exc.message}")

"""Worker tasks of the schedule: reminders (every minute) and keeping
recurring schedules materialized ahead (a few times a day)."""

from __future__ import annotations

from celery import shared_task

from marquee.schedule import services
from marquee.schedule.models import ScheduleRule


# Names kept from when the schedule lived in shows: beat entries and messages
# already queued under them keep working.
@shared_task(name="marquee.shows.schedule_tasks.send_show_reminders")
def send_show_reminders() -> int:
    return services.send_due_reminders()


@shared_task(name="marquee.shows.schedule_tasks.extend_schedules")
def extend_schedules() -> int:
    total = 0
    for rule in ScheduleRule.objects.filter(is_active=True, is_published=True):
        total += services.extend_rule(rule=rule)
    return total

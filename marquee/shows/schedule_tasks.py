"""Worker tasks of the schedule: reminders (every minute) and keeping
recurring schedules materialized ahead (a few times a day)."""

from __future__ import annotations

from celery import shared_task

from marquee.shows import schedule
from marquee.shows.schedule_models import ScheduleRule


@shared_task(name="marquee.shows.schedule_tasks.send_show_reminders")
def send_show_reminders() -> int:
    return schedule.send_due_reminders()


@shared_task(name="marquee.shows.schedule_tasks.extend_schedules")
def extend_schedules() -> int:
    total = 0
    for rule in ScheduleRule.objects.filter(is_active=True, is_published=True):
        total += schedule.extend_rule(rule=rule)
    return total

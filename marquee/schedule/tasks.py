"""Worker tasks of the schedule: reminders (every minute) and keeping
recurring schedules materialized ahead (a few times a day); ticket escrow
(every minute, and once per ended show)."""

from __future__ import annotations

from celery import shared_task

from marquee.schedule import escrow, services
from marquee.schedule.models import ScheduleRule


@shared_task
def send_show_reminders() -> int:
    return services.send_due_reminders()


@shared_task
def extend_schedules() -> int:
    total = 0
    for rule in ScheduleRule.objects.filter(is_active=True, is_published=True):
        total += services.extend_rule(rule=rule)
    return total


@shared_task
def settle_ticket_shows() -> int:
    """Ticket escrow: refund the tickets of no-shows and of shows ended too early (beat: every minute)."""
    return escrow.settle_ticket_shows()


@shared_task
def settle_ended_show(show_id: int) -> int:
    """One show just ended (the ``show.ended`` domain event): refund its tickets if it was too short."""
    return escrow.settle_ended_show(show_id=show_id)


@shared_task(ignore_result=True)
def notify_followers_live(show_id: int) -> dict:
    """Queued by the ``show.started`` domain event (schedule.golive)."""
    from marquee.schedule import golive

    return golive.notify_followers_live(show_id=show_id)


def _forward(old_name: str, task):
    """Register ``old_name`` as a task that runs ``task`` in the worker that received it."""

    @shared_task(name=old_name)
    def alias(*args, **kwargs):
        return task(*args, **kwargs)

    return alias


# The schedule lived in shows until issue 12: beat entries and messages queued
# by an older deploy still carry these names, so they keep running the task.
OLD_NAMES = {
    "marquee.shows.schedule_tasks.send_show_reminders": send_show_reminders,
    "marquee.shows.schedule_tasks.extend_schedules": extend_schedules,
}
for _old_name, _task in OLD_NAMES.items():
    _forward(_old_name, _task)

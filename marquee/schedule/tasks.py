"""Worker tasks of the schedule: reminders (every minute) and keeping
recurring schedules materialized ahead (a few times a day); ticket escrow
(every minute, and once per ended show)."""

from __future__ import annotations

from celery import shared_task

from marquee.schedule import escrow, services
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

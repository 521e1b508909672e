"""Schedule reads: calendars, the public upcoming list, the iCal feed,
unread notifications."""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone

from marquee.performers.models import Performer
from marquee.performers.selectors import performer_zone
from marquee.schedule.models import Notification
from marquee.shows.models import Show


@dataclass
class CalendarDay:
    date: datetime.date
    in_month: bool
    is_today: bool
    shows: list


def _shows_between(performer: Performer, zone: ZoneInfo, first: datetime.date, last: datetime.date):
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    shows = (
        Show.objects.filter(performer=performer, scheduled_start__gte=start, scheduled_start__lt=end)
        .exclude(status=Show.Status.CANCELLED)
        .order_by("scheduled_start")
    )
    by_day: dict[datetime.date, list] = {}
    for show in shows:
        show.local_start = show.scheduled_start.astimezone(zone)
        by_day.setdefault(show.local_start.date(), []).append(show)
    return by_day


def month_calendar(performer: Performer, year: int, month: int) -> dict:
    zone = performer_zone(performer)
    today = timezone.now().astimezone(zone).date()
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    by_day = _shows_between(performer, zone, weeks[0][0], weeks[-1][-1])
    first = datetime.date(year, month, 1)
    prev_month = (first - datetime.timedelta(days=1)).replace(day=1)
    next_month = (first + datetime.timedelta(days=32)).replace(day=1)
    return {
        "zone": zone.key,
        "title": first.strftime("%B %Y"),
        "weeks": [[CalendarDay(d, d.month == month, d == today, by_day.get(d, [])) for d in week] for week in weeks],
        "prev": prev_month,
        "next": next_month,
        "weekday_names": [calendar.day_abbr[i] for i in range(7)],
    }


def week_calendar(performer: Performer, day: datetime.date) -> dict:
    zone = performer_zone(performer)
    today = timezone.now().astimezone(zone).date()
    monday = day - datetime.timedelta(days=day.weekday())
    days = [monday + datetime.timedelta(days=i) for i in range(7)]
    by_day = _shows_between(performer, zone, days[0], days[-1])
    return {
        "zone": zone.key,
        "title": f"Week of {monday:%d %b %Y}",
        "days": [CalendarDay(d, True, d == today, by_day.get(d, [])) for d in days],
        "prev": monday - datetime.timedelta(days=7),
        "next": monday + datetime.timedelta(days=7),
    }


def performer_rules(performer: Performer):
    """The performer's own schedules, drafts included (owner-only reads)."""
    return performer.schedule_rules.filter(is_active=True)


def public_upcoming(performer: Performer, *, days: int = 60):
    now = timezone.now()
    return performer.shows.filter(
        status=Show.Status.SCHEDULED,
        scheduled_start__gte=now - datetime.timedelta(hours=6),
        scheduled_start__lt=now + datetime.timedelta(days=days),
    ).order_by("scheduled_start")


def ical_feed(performer: Performer, *, base_url: str) -> bytes:
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//Marquee//Schedule//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{performer.display_name} on Marquee")
    for show in public_upcoming(performer):
        event = Event()
        event.add("uid", f"show-{show.pk}@marquee")
        event.add("summary", f"{performer.display_name}: {show.title}")
        event.add("dtstart", show.scheduled_start)
        event.add("dtend", show.scheduled_start + datetime.timedelta(minutes=show.expected_minutes))
        event.add("dtstamp", show.created_at)
        event.add("url", f"{base_url}/rooms/{performer.username}/")
        event.add("description", show.get_kind_display())
        cal.add_component(event)
    return cal.to_ical()


def unread_notifications(user):
    return Notification.objects.filter(user=user, read_at__isnull=True)

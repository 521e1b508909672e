"""Recurrence: performer time zones, weekly RRULEs and their expansion to UTC
occurrences (DST-safe), and the error the schedule refuses with."""

from __future__ import annotations

import datetime
import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr

from marquee.lib.errors import DomainError
from marquee.performers.models import ShowKind
from marquee.schedule.models import ScheduleRule
from marquee.shows.models import Show

log = logging.getLogger(__name__)

SCHEDULABLE_KINDS = (ShowKind.PUBLIC, ShowKind.PREMIUM, ShowKind.SUBSCRIBERS)
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
BLOCKING_STATUSES = (Show.Status.SCHEDULED, Show.Status.LIVE)


class ScheduleError(DomainError):
    """Refused with a message meant for the performer."""


def validate_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError("bad_timezone", f"Unknown timezone “{name}”.") from None


# --- expansion -----------------------------------------------------------------


def expand_rule(
    *,
    rrule: str,
    start_time: datetime.time,
    starts_on: datetime.date,
    zone: ZoneInfo,
    until: datetime.date | None,
    after: datetime.datetime,
    before: datetime.datetime,
) -> list[datetime.datetime]:
    """UTC datetimes of the rule's occurrences in [after, before).

    Expansion runs on naive local wall-clock times and each occurrence is then
    placed in ``zone``, so "21:00 every Tuesday" is 21:00 local before and after
    a DST change (its UTC time moves)."""
    dtstart = datetime.datetime.combine(starts_on, start_time)
    rule = rrulestr(rrule, dtstart=dtstart, ignoretz=True)
    if until is not None:
        rule = rule.replace(until=datetime.datetime.combine(until, datetime.time(23, 59, 59)))
    # Local window, widened by a day on each side to cover any UTC offset.
    local_after = after.astimezone(zone).replace(tzinfo=None) - datetime.timedelta(days=1)
    local_before = before.astimezone(zone).replace(tzinfo=None) + datetime.timedelta(days=1)
    result = []
    for local in rule.between(local_after, local_before, inc=True):
        # Nonexistent wall times (inside a spring-forward gap) resolve forward.
        aware = local.replace(tzinfo=zone).astimezone(datetime.UTC)
        if after <= aware < before:
            result.append(aware)
    return result


def build_weekly_rrule(weekdays: list[str]) -> str:
    days = [d.upper() for d in weekdays]
    if not days or any(d not in WEEKDAYS for d in days):
        raise ScheduleError("bad_weekdays", "Pick at least one weekday.")
    ordered = [d for d in WEEKDAYS if d in days]
    return "FREQ=WEEKLY;BYDAY=" + ",".join(ordered)


def rule_weekdays(rule: ScheduleRule) -> list[str]:
    for part in rule.rrule.split(";"):
        if part.startswith("BYDAY="):
            return part[len("BYDAY=") :].split(",")
    return []

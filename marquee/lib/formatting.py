"""The one place that turns money and times into text people read.

Templates use the built-in filters in ``marquee.lib.templatetags``
(``{{ cents|money }}``, ``{{ dt|when }}``); Python code (e-mails,
notifications) calls these functions."""

from __future__ import annotations

import datetime
import zoneinfo

from django.utils import timezone


def money(cents, currency: str = "$") -> str:
    """Integer cents → "$1,234.56"; negative amounts keep their sign.  Anything
    that is not an integer amount renders as an empty string, never a guess."""
    if isinstance(cents, bool):
        return ""
    try:
        cents = int(cents)
    except (TypeError, ValueError):
        return ""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{currency}{whole:,}.{rest:02d}"


def valid_zone(name) -> str | None:
    """``name`` if it is an IANA zone this machine knows, else None."""
    if not name or not isinstance(name, str) or len(name) > 64:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
    return name


def relative(dt: datetime.datetime, now: datetime.datetime | None = None) -> str:
    """ "in 25 min", "in 3 h", "2 h ago", "now"; "" when more than a day away."""
    now = now or timezone.now()
    seconds = (dt - now).total_seconds()
    span = abs(seconds)
    if span < 60:
        return "now"
    if span < 3600:
        text = f"{int(span // 60)} min"
    elif span < 86400:
        text = f"{int(span // 3600)} h"
    else:
        return ""
    return f"in {text}" if seconds > 0 else f"{text} ago"


def when(dt, *, now: datetime.datetime | None = None, zone=None, with_relative: bool = True) -> str:
    """A moment in the viewer's zone (the active Django zone unless ``zone``
    is given), with the zone named: "Sun 6 Dec, 7:30 PM EST (in 3 h)"."""
    if not isinstance(dt, datetime.datetime):
        return ""
    zone = zone or timezone.get_current_timezone()
    if timezone.is_naive(dt):
        dt = timezone.make_aware(dt, datetime.UTC)
    local = dt.astimezone(zone)
    year = f" {local.year}" if local.year != (now or timezone.now()).astimezone(zone).year else ""
    clock = f"{local.hour % 12 or 12}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"
    text = f"{local:%a} {local.day} {local:%b}{year}, {clock} {local.tzname()}"
    if with_relative:
        soon = relative(dt, now)
        if soon:
            text = f"{text} ({soon})"
    return text


def day(value, *, zone=None) -> str:
    """A date (or the date of a moment in the viewer's zone): "6 Dec 2026"."""
    if isinstance(value, datetime.datetime):
        zone = zone or timezone.get_current_timezone()
        if timezone.is_naive(value):
            value = timezone.make_aware(value, datetime.UTC)
        value = value.astimezone(zone).date()
    if not isinstance(value, datetime.date):
        return ""
    return f"{value.day} {value:%b} {value.year}"

"""Schedule services and selectors: one-off and recurring shows, overlap
refusal, cancellation (with refunds), calendar reads, reminders."""

from __future__ import annotations

import calendar
import datetime
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from marquee.audit.services import record_audit
from marquee.billing import prices
from marquee.billing.services import refund_show_tickets
from marquee.lib import mail
from marquee.lib.errors import DomainError
from marquee.performers.models import Follow, Performer, ShowKind
from marquee.shows.models import Show
from marquee.shows.schedule_models import Notification, ScheduleRule

log = logging.getLogger(__name__)

SCHEDULABLE_KINDS = (ShowKind.PUBLIC, ShowKind.PREMIUM, ShowKind.SUBSCRIBERS)
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
BLOCKING_STATUSES = (Show.Status.SCHEDULED, Show.Status.LIVE)


class ScheduleError(DomainError):
    """Refused with a message meant for the performer."""


def performer_zone(performer: Performer) -> ZoneInfo:
    try:
        return ZoneInfo(performer.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


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


# --- validation ----------------------------------------------------------------


def _validate_show_fields(*, title: str, kind: str, price_cents: int, expected_minutes: int) -> tuple[str, int]:
    title = (title or "").strip()
    if not title:
        raise ScheduleError("bad_title", "Give the show a title.")
    if len(title) > 120:
        raise ScheduleError("bad_title", "The title is too long (120 characters at most).")
    if kind not in SCHEDULABLE_KINDS:
        raise ScheduleError("bad_kind", "Choose public, premium or subscribers-only.")
    if not 5 <= expected_minutes <= 24 * 60:
        raise ScheduleError("bad_length", "Expected length must be between 5 minutes and 24 hours.")
    if kind == ShowKind.PREMIUM:
        try:
            prices.check_price_cents(price_cents, label="A premium ticket")
        except prices.PriceError as exc:
            raise ScheduleError("bad_price", exc.message) from None
    else:
        price_cents = 0
    return title, price_cents


def _conflicting_show(performer: Performer, start: datetime.datetime, minutes: int, *, exclude_pk=None) -> Show | None:
    end = start + datetime.timedelta(minutes=minutes)
    candidates = Show.objects.filter(
        performer=performer,
        status__in=BLOCKING_STATUSES,
        scheduled_start__lt=end,
        scheduled_start__gte=start - datetime.timedelta(days=1),
    )
    if exclude_pk:
        candidates = candidates.exclude(pk=exclude_pk)
    for show in candidates.order_by("scheduled_start"):
        if show.scheduled_start + datetime.timedelta(minutes=show.expected_minutes) > start:
            return show
    return None


def _overlap_error(performer: Performer, start: datetime.datetime, other: Show) -> ScheduleError:
    zone = performer_zone(performer)
    when = other.scheduled_start.astimezone(zone)
    return ScheduleError(
        "overlap",
        f"That overlaps “{other.title}” on {when:%a %d %b %Y at %H:%M} ({zone.key}). "
        "Pick another time or shorten one of them.",
        409,
    )


def _lock_performer(performer: Performer) -> None:
    # Serializes scheduling per performer so two requests cannot both pass the overlap check.
    Performer.objects.select_for_update().filter(pk=performer.pk).first()


def _require_future(start: datetime.datetime) -> None:
    if start <= timezone.now():
        raise ScheduleError("in_past", "The start time is in the past.")


# --- services ------------------------------------------------------------------


@transaction.atomic
def schedule_show(
    *,
    performer: Performer,
    title: str,
    kind: str,
    starts_at: datetime.datetime,
    expected_minutes: int,
    price_cents: int = 0,
    actor=None,
    request=None,
) -> Show:
    """A one-off show. ``starts_at`` must be timezone-aware."""
    title, price_cents = _validate_show_fields(
        title=title, kind=kind, price_cents=price_cents, expected_minutes=expected_minutes
    )
    if timezone.is_naive(starts_at):
        raise ScheduleError("bad_start", "The start time needs a timezone.")
    _require_future(starts_at)
    _lock_performer(performer)
    other = _conflicting_show(performer, starts_at, expected_minutes)
    if other is not None:
        raise _overlap_error(performer, starts_at, other)
    show = Show.objects.create(
        performer=performer,
        title=title,
        kind=kind,
        price_cents=price_cents,
        scheduled_start=starts_at,
        expected_minutes=expected_minutes,
    )
    record_audit(action="show.scheduled", actor=actor or performer.user, request=request, target=show)
    return show


@transaction.atomic
def create_schedule_rule(
    *,
    performer: Performer,
    title: str,
    kind: str,
    weekdays: list[str],
    start_time: datetime.time,
    starts_on: datetime.date,
    expected_minutes: int,
    price_cents: int = 0,
    until: datetime.date | None = None,
    timezone_name: str | None = None,
    publish: bool = True,
    actor=None,
    request=None,
) -> ScheduleRule:
    """A recurring show (weekly on the given days at ``start_time`` local time).
    Published rules create their shows for the next ``SCHEDULE_HORIZON_DAYS``;
    the whole rule is refused if any occurrence overlaps another show."""
    title, price_cents = _validate_show_fields(
        title=title, kind=kind, price_cents=price_cents, expected_minutes=expected_minutes
    )
    zone = validate_zone(timezone_name or performer.timezone or "UTC")
    if until is not None and until < starts_on:
        raise ScheduleError("bad_until", "The end date is before the first date.")
    rule = ScheduleRule(
        performer=performer,
        title=title,
        kind=kind,
        price_cents=price_cents,
        expected_minutes=expected_minutes,
        rrule=build_weekly_rrule(weekdays),
        start_time=start_time,
        starts_on=starts_on,
        until=until,
        timezone=zone.key,
        is_published=publish,
    )
    _lock_performer(performer)
    occurrences = _rule_occurrences(rule) if publish else []
    if publish and not occurrences:
        raise ScheduleError("no_occurrences", "This schedule has no upcoming dates.")
    _refuse_overlaps(performer, rule, occurrences)
    rule.save()
    created = _materialize(rule, occurrences)
    record_audit(
        action="schedule.created",
        actor=actor or performer.user,
        request=request,
        target=rule,
        details={"rrule": rule.rrule, "shows": len(created), "published": publish},
    )
    return rule


@transaction.atomic
def publish_schedule_rule(*, rule: ScheduleRule, actor=None, request=None) -> ScheduleRule:
    _lock_performer(rule.performer)
    rule = ScheduleRule.objects.get(pk=rule.pk)
    if rule.is_published:
        return rule
    occurrences = _rule_occurrences(rule)
    if not occurrences:
        raise ScheduleError("no_occurrences", "This schedule has no upcoming dates.")
    _refuse_overlaps(rule.performer, rule, occurrences)
    rule.is_published = True
    rule.save(update_fields=["is_published"])
    _materialize(rule, occurrences)
    record_audit(action="schedule.published", actor=actor or rule.performer.user, request=request, target=rule)
    return rule


def _rule_occurrences(rule: ScheduleRule, *, after=None) -> list[datetime.datetime]:
    now = timezone.now()
    return expand_rule(
        rrule=rule.rrule,
        start_time=rule.start_time,
        starts_on=rule.starts_on,
        zone=ZoneInfo(rule.timezone),
        until=rule.until,
        after=after or now,
        before=now + datetime.timedelta(days=settings.SCHEDULE_HORIZON_DAYS),
    )


def _refuse_overlaps(performer: Performer, rule: ScheduleRule, occurrences) -> None:
    for start in occurrences:
        other = _conflicting_show(performer, start, rule.expected_minutes)
        if other is not None and (rule.pk is None or other.schedule_rule_id != rule.pk):
            raise _overlap_error(performer, start, other)


def _materialize(rule: ScheduleRule, occurrences) -> list[Show]:
    if not rule.is_published or not rule.is_active:
        return []
    existing = set(rule.shows.values_list("scheduled_start", flat=True))
    shows = [
        Show(
            performer=rule.performer,
            title=rule.title,
            kind=rule.kind,
            price_cents=rule.price_cents,
            scheduled_start=start,
            expected_minutes=rule.expected_minutes,
            schedule_rule=rule,
        )
        for start in occurrences
        if start not in existing
    ]
    return Show.objects.bulk_create(shows)


def extend_rule(*, rule: ScheduleRule) -> int:
    """Create the rule's shows that entered the horizon; occurrences that now
    overlap another show are skipped (the performer planned something else)."""
    with transaction.atomic():
        _lock_performer(rule.performer)
        rule = ScheduleRule.objects.select_related("performer").get(pk=rule.pk)
        fresh = [
            start
            for start in _rule_occurrences(rule)
            if _conflicting_show(rule.performer, start, rule.expected_minutes) is None
        ]
        return len(_materialize(rule, fresh))


@transaction.atomic
def cancel_show(*, show: Show, actor=None, request=None, reason: str = "") -> Show:
    """Cancel a scheduled show; tickets sold for it are refunded in the same transaction."""
    updated = Show.objects.filter(pk=show.pk, status=Show.Status.SCHEDULED).update(status=Show.Status.CANCELLED)
    if not updated:
        raise ScheduleError("not_cancellable", "Only a show that has not started can be cancelled.")
    show.refresh_from_db()
    refunded = refund_show_tickets(show=show, reason="show_cancelled", actor=actor, request=request)
    record_audit(
        action="show.cancelled",
        actor=actor or show.performer.user,
        request=request,
        target=show,
        details={"reason": reason[:200], "tickets_refunded": refunded},
    )
    return show


@transaction.atomic
def cancel_schedule_rule(*, rule: ScheduleRule, actor=None, request=None) -> int:
    """Stop a recurring schedule and cancel its future shows. Returns how many."""
    ScheduleRule.objects.filter(pk=rule.pk).update(is_active=False)
    future = rule.shows.filter(status=Show.Status.SCHEDULED, scheduled_start__gt=timezone.now())
    count = 0
    for show in future:
        cancel_show(show=show, actor=actor, request=request, reason="schedule stopped")
        count += 1
    record_audit(action="schedule.stopped", actor=actor or rule.performer.user, request=request, target=rule)
    return count


def send_due_reminders(*, now: datetime.datetime | None = None) -> int:
    """Notify followers of shows starting within ``SHOW_REMINDER_MINUTES``.
    Idempotent: the unique (user, show, kind) row decides who still needs one."""
    now = now or timezone.now()
    due = Show.objects.filter(
        status=Show.Status.SCHEDULED,
        scheduled_start__gt=now,
        scheduled_start__lte=now + datetime.timedelta(minutes=settings.SHOW_REMINDER_MINUTES),
        performer__is_suspended=False,
    ).select_related("performer__user")
    sent = 0
    for show in due:
        already = Notification.objects.filter(show=show, kind=Notification.Kind.SHOW_REMINDER).values("user_id")
        followers = Follow.objects.filter(performer=show.performer).exclude(user_id__in=already).select_related("user")
        for follow in followers:
            if _notify_once(show=show, user=follow.user):
                sent += 1
    return sent


def _notify_once(*, show: Show, user) -> bool:
    minutes = max(1, round((show.scheduled_start - timezone.now()).total_seconds() / 60))
    text = f"{show.performer.display_name} starts “{show.title}” in {minutes} min."
    url = f"/rooms/{show.performer.username}/"
    try:
        with transaction.atomic():
            Notification.objects.create(user=user, show=show, kind=Notification.Kind.SHOW_REMINDER, text=text, url=url)
            transaction.on_commit(
                lambda: send_mail(
                    subject=mail.subject(
                        "A show you follow starts soon", f"{show.performer.display_name} is about to go live"
                    ),
                    message=f"{text}\n\n{settings.SITE_URL}{url}",
                    from_email=mail.sender(),
                    recipient_list=[user.email],
                    fail_silently=True,
                )
            )
    except IntegrityError:
        return False  # another worker got there first
    return True


# --- selectors -----------------------------------------------------------------


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


def mark_notifications_read(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())

"""Schedule services: one-off and recurring shows, overlap refusal,
cancellation (with refunds), reminders.  Reads are in ``selectors``,
recurrence expansion in ``recurrence``."""

from __future__ import annotations

import datetime
import logging
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from marquee.audit.services import record_audit
from marquee.billing import prices
from marquee.billing.services import refund_show_tickets
from marquee.lib import mail
from marquee.performers.models import Follow, Performer, ShowKind
from marquee.performers.selectors import performer_zone
from marquee.schedule.escrow import refund_notifier
from marquee.schedule.models import Notification, ScheduleRule
from marquee.schedule.recurrence import (
    BLOCKING_STATUSES,
    SCHEDULABLE_KINDS,
    ScheduleError,
    build_weekly_rrule,
    expand_rule,
    validate_zone,
)
from marquee.shows.models import Show

log = logging.getLogger(__name__)


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
    refunded = refund_show_tickets(
        show=show, reason="show_cancelled", actor=actor, request=request, on_refunded=refund_notifier("was cancelled")
    )
    record_audit(
        action="show.cancelled",
        actor=actor or show.performer.user,
        request=request,
        target=show,
        details={"reason": reason[: settings.AUDIT_DETAIL_MAX_CHARS], "tickets_refunded": refunded},
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


def mark_notifications_read(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())

"""Dashboard schedule pages (calendar, new shows, cancel) and the public iCal feed."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from marquee.lib.geo import location_for_request
from marquee.performers.dashboard_access import performer_required
from marquee.performers.selectors import get_visible_performer, performer_zone
from marquee.schedule import recurrence, selectors, services
from marquee.schedule.forms import OneOffShowForm, RecurringShowForm
from marquee.schedule.models import ScheduleRule
from marquee.shows.models import Show


def _parse_day(value: str | None, default: datetime.date) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _calendar_context(request, performer) -> dict:
    zone = performer_zone(performer)
    today = timezone.now().astimezone(zone).date()
    view = "week" if request.GET.get("view") == "week" else "month"
    day = _parse_day(request.GET.get("day"), today)
    return {
        "performer": performer,
        "view": view,
        "month": selectors.month_calendar(performer, day.year, day.month) if view == "month" else None,
        "week": selectors.week_calendar(performer, day) if view == "week" else None,
        "day": day,
        "zone": zone.key,
    }


def _page(request, *, one_off_form=None, recurring_form=None, status: int = 200):
    """The schedule page; a refused form comes back bound, so its errors
    show at their fields and what was typed stays."""
    performer = request.performer
    context = _calendar_context(request, performer)
    context.update(
        {
            "one_off_form": one_off_form or OneOffShowForm(initial=_form_defaults(performer)),
            "recurring_form": recurring_form or RecurringShowForm(initial=_form_defaults(performer)),
            "rules": selectors.performer_rules(performer),
            "upcoming": selectors.public_upcoming(performer)[:20],
        }
    )
    return render(request, "schedule/page.html", context, status=status)


@performer_required
def schedule_page(request):
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "calendar":
        return render(request, "schedule/_calendar.html", _calendar_context(request, request.performer))
    return _page(request)


def _form_defaults(performer) -> dict:
    kind = performer.default_show_kind if performer.default_show_kind != "private" else "public"
    return {"kind": kind, "price": performer.default_ticket_price_cents / 100}


def _form_error(request, message: str):
    messages.error(request, message)


# Which field a refusal of the schedule services is about (shown there).
FIELD_OF_CODE = {
    "bad_title": "title",
    "bad_kind": "kind",
    "bad_length": "expected_minutes",
    "bad_price": "price",
    "in_past": "time",
    "overlap": "time",
    "bad_start": "time",
    "bad_weekdays": "weekdays",
    "bad_until": "until",
    "no_occurrences": "until",
}


def _refused(request, form, exc, form_name: str):
    field = FIELD_OF_CODE.get(exc.code)
    form.add_error(field if field in form.fields else None, exc.message)
    return _page(request, status=exc.status if 400 <= exc.status < 500 else 400, **{form_name: form})


@performer_required
@require_POST
def schedule_one_off(request):
    performer = request.performer
    form = OneOffShowForm(request.POST)
    if not form.is_valid():
        return _page(request, one_off_form=form, status=400)
    data = form.cleaned_data
    starts_at = datetime.datetime.combine(data["date"], data["time"], tzinfo=performer_zone(performer))
    try:
        show = services.schedule_show(
            performer=performer,
            title=data["title"],
            kind=data["kind"],
            starts_at=starts_at,
            expected_minutes=data["expected_minutes"],
            price_cents=form.price_cents(),
            request=request,
        )
    except recurrence.ScheduleError as exc:
        return _refused(request, form, exc, "one_off_form")
    messages.success(request, f"“{show.title}” is on the schedule.")
    return redirect(f"{_schedule_url()}?day={data['date'].isoformat()}")


def _schedule_url():
    from django.urls import reverse

    return reverse("dashboard_schedule")


@performer_required
@require_POST
def schedule_recurring(request):
    performer = request.performer
    form = RecurringShowForm(request.POST)
    if not form.is_valid():
        return _page(request, recurring_form=form, status=400)
    data = form.cleaned_data
    try:
        rule = services.create_schedule_rule(
            performer=performer,
            title=data["title"],
            kind=data["kind"],
            weekdays=data["weekdays"],
            start_time=data["time"],
            starts_on=data["starts_on"],
            until=data["until"],
            expected_minutes=data["expected_minutes"],
            price_cents=form.price_cents(),
            publish=data["publish"],
            request=request,
        )
    except recurrence.ScheduleError as exc:
        return _refused(request, form, exc, "recurring_form")
    messages.success(
        request, f"“{rule.title}” repeats {', '.join(recurrence.rule_weekdays(rule))} at {rule.start_time:%H:%M}."
    )
    return redirect("dashboard_schedule")


@performer_required
@require_POST
def cancel_show(request, show_id: int):
    show = get_object_or_404(Show, pk=show_id, performer=request.performer)
    try:
        services.cancel_show(show=show, request=request)
    except recurrence.ScheduleError as exc:
        _form_error(request, exc.message)
    else:
        messages.success(request, f"“{show.title}” was cancelled.")
    return redirect("dashboard_schedule")


@performer_required
@require_POST
def rule_action(request, rule_id: int):
    rule = get_object_or_404(ScheduleRule, pk=rule_id, performer=request.performer, is_active=True)
    try:
        if request.POST.get("action") == "publish":
            services.publish_schedule_rule(rule=rule, request=request)
            messages.success(request, f"“{rule.title}” is published.")
        else:
            count = services.cancel_schedule_rule(rule=rule, request=request)
            messages.success(request, f"“{rule.title}” stopped; {count} upcoming shows cancelled.")
    except recurrence.ScheduleError as exc:
        _form_error(request, exc.message)
    return redirect("dashboard_schedule")


def ical_feed(request, username: str):
    performer = get_visible_performer(username, viewer=request.user, location=location_for_request(request))
    if performer is None:
        raise Http404("No such room.")
    body = selectors.ical_feed(performer, base_url=settings.SITE_URL)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{performer.username}.ics"'
    return response


@login_required
def notifications(request):
    items = list(services.Notification.objects.filter(user=request.user).select_related("show")[:50])
    if request.method == "POST":
        services.mark_notifications_read(user=request.user)
        return redirect("notifications")
    return render(request, "schedule/notifications.html", {"notifications": items})

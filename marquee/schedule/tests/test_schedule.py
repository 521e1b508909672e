"""Schedule: recurrence across DST, overlap refusal, calendar timezone,
reminders, iCal, cancellation and who may touch what."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from marquee.audit.models import AuditEvent
from marquee.performers.models import Follow, RegionBlock
from marquee.schedule import recurrence as schedule_recurrence
from marquee.schedule import services as schedule_services
from marquee.schedule.models import Notification, ScheduleRule
from marquee.schedule.tasks import send_show_reminders
from marquee.shows.models import Show
from tests.factories import PerformerFactory, ShowFactory, UserFactory

UTC = datetime.UTC


def _utc(*args):
    return datetime.datetime(*args, tzinfo=UTC)


def test_weekly_rule_keeps_local_time_across_spring_dst_change():
    # Europe/London moves to BST on Sunday 28 March 2027: 21:00 local is 21:00 UTC before, 20:00 UTC after.
    got = schedule_recurrence.expand_rule(
        rrule="FREQ=WEEKLY;BYDAY=TU,FR",
        start_time=datetime.time(21, 0),
        starts_on=datetime.date(2027, 3, 16),
        zone=ZoneInfo("Europe/London"),
        until=None,
        after=_utc(2027, 3, 15),
        before=_utc(2027, 4, 3),
    )
    assert got == [
        _utc(2027, 3, 16, 21),
        _utc(2027, 3, 19, 21),
        _utc(2027, 3, 23, 21),
        _utc(2027, 3, 26, 21),
        _utc(2027, 3, 30, 20),
        _utc(2027, 4, 2, 20),
    ]


def test_weekly_rule_across_autumn_dst_change_in_new_york():
    # US DST ends Sunday 7 November 2027: 21:00 EDT = 01:00 UTC next day; 21:00 EST = 02:00 UTC.
    got = schedule_recurrence.expand_rule(
        rrule="FREQ=WEEKLY;BYDAY=FR",
        start_time=datetime.time(21, 0),
        starts_on=datetime.date(2027, 10, 29),
        zone=ZoneInfo("America/New_York"),
        until=datetime.date(2027, 11, 12),
        after=_utc(2027, 10, 1),
        before=_utc(2027, 12, 1),
    )
    assert got == [_utc(2027, 10, 30, 1), _utc(2027, 11, 6, 1), _utc(2027, 11, 13, 2)]


def _next_weekday(weekday: int, zone: ZoneInfo) -> datetime.date:
    today = timezone.now().astimezone(zone).date()
    return today + datetime.timedelta(days=(weekday - today.weekday()) % 7 or 7)


@pytest.fixture
def london_performer(performer):
    performer.timezone = "Europe/London"
    performer.save(update_fields=["timezone"])
    return performer


def test_recurring_rule_materializes_shows_at_local_wall_clock(london_performer):
    zone = ZoneInfo("Europe/London")
    rule = schedule_services.create_schedule_rule(
        performer=london_performer,
        title="Requests",
        kind="public",
        weekdays=["TU", "FR"],
        start_time=datetime.time(21, 0),
        starts_on=_next_weekday(1, zone),
        expected_minutes=90,
    )
    shows = list(rule.shows.order_by("scheduled_start"))
    assert len(shows) >= 14  # two a week for eight weeks
    for show in shows:
        local = show.scheduled_start.astimezone(zone)
        assert (local.hour, local.minute) == (21, 0)
        assert local.strftime("%a") in ("Tue", "Fri")
    assert AuditEvent.objects.filter(action="schedule.created").count() == 1
    # Extending again creates nothing new (idempotent).
    assert schedule_services.extend_rule(rule=rule) == 0


def test_overlapping_one_off_is_refused_and_nothing_is_created(london_performer):
    start = timezone.now() + datetime.timedelta(days=2)
    schedule_services.schedule_show(
        performer=london_performer, title="First", kind="public", starts_at=start, expected_minutes=60
    )
    with pytest.raises(schedule_recurrence.ScheduleError) as refused:
        schedule_services.schedule_show(
            performer=london_performer,
            title="Second",
            kind="public",
            starts_at=start + datetime.timedelta(minutes=30),
            expected_minutes=60,
        )
    assert refused.value.code == "overlap"
    assert "overlaps “First”" in refused.value.message
    assert Show.objects.filter(performer=london_performer).count() == 1
    # Back-to-back is fine.
    schedule_services.schedule_show(
        performer=london_performer,
        title="Third",
        kind="public",
        starts_at=start + datetime.timedelta(minutes=60),
        expected_minutes=30,
    )


def test_recurring_rule_overlapping_a_show_is_refused_whole(london_performer):
    zone = ZoneInfo("Europe/London")
    day = _next_weekday(4, zone) + datetime.timedelta(days=14)
    ShowFactory(
        performer=london_performer,
        title="Special",
        scheduled_start=datetime.datetime.combine(day, datetime.time(21, 30), tzinfo=zone),
        expected_minutes=60,
    )
    with pytest.raises(schedule_recurrence.ScheduleError) as refused:
        schedule_services.create_schedule_rule(
            performer=london_performer,
            title="Weekly",
            kind="public",
            weekdays=["FR"],
            start_time=datetime.time(21, 0),
            starts_on=_next_weekday(4, zone),
            expected_minutes=60,
        )
    assert refused.value.code == "overlap"
    assert not ScheduleRule.objects.exists()
    assert Show.objects.filter(performer=london_performer).count() == 1


def test_premium_show_needs_a_price_within_limits(performer):
    with pytest.raises(schedule_recurrence.ScheduleError) as refused:
        schedule_services.schedule_show(
            performer=performer,
            title="Paid",
            kind="premium",
            starts_at=timezone.now() + datetime.timedelta(days=1),
            expected_minutes=60,
            price_cents=0,
        )
    assert refused.value.code == "bad_price"
    assert not Show.objects.exists()


def test_draft_rule_creates_no_shows_until_published(performer):
    rule = schedule_services.create_schedule_rule(
        performer=performer,
        title="Maybe",
        kind="public",
        weekdays=["MO"],
        start_time=datetime.time(18, 0),
        starts_on=timezone.now().date() + datetime.timedelta(days=1),
        expected_minutes=60,
        publish=False,
    )
    assert rule.shows.count() == 0
    schedule_services.publish_schedule_rule(rule=rule)
    assert rule.shows.count() >= 7


def test_calendar_renders_in_performer_timezone_and_room_in_utc_for_the_browser(client, london_performer):
    start = datetime.datetime.combine(
        _next_weekday(2, ZoneInfo("Europe/London")), datetime.time(21, 15), tzinfo=ZoneInfo("Europe/London")
    )
    show = ShowFactory(performer=london_performer, title="Late chat", scheduled_start=start)
    client.force_login(london_performer.user)
    response = client.get(reverse("dashboard_schedule"), {"view": "week", "day": start.date().isoformat()})
    assert response.status_code == 200
    body = response.content.decode()
    assert "21:15" in body and "Late chat" in body
    # htmx navigation gets the calendar fragment only.
    fragment = client.get(
        reverse("dashboard_schedule"),
        {"view": "month", "day": start.date().isoformat()},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="calendar",
    )
    assert "<html" not in fragment.content.decode() and "21:15 Late chat" in fragment.content.decode()
    # The public room marks the UTC instant for the viewer's browser to localize.
    room = client.get(reverse("room", args=[london_performer.username]))
    assert f'datetime="{show.scheduled_start.astimezone(UTC).isoformat()}"' in room.content.decode()


def test_schedule_pages_refuse_strangers_and_change_nothing(client, performer, outsider):
    rule = schedule_services.create_schedule_rule(
        performer=performer,
        title="Secret draft",
        kind="public",
        weekdays=["MO"],
        start_time=datetime.time(18, 0),
        starts_on=timezone.now().date() + datetime.timedelta(days=1),
        expected_minutes=60,
        publish=False,
    )
    show = ShowFactory(performer=performer)
    client.force_login(outsider)
    assert client.get(reverse("dashboard_schedule")).status_code == 403
    assert client.post(reverse("dashboard_rule_action", args=[rule.pk]), {"action": "publish"}).status_code == 403
    assert client.post(reverse("dashboard_show_cancel", args=[show.pk])).status_code == 403
    # Another performer cannot reach them either.
    other = PerformerFactory()
    client.force_login(other.user)
    page = client.get(reverse("dashboard_schedule"))
    assert "Secret draft" not in page.content.decode()
    assert client.post(reverse("dashboard_rule_action", args=[rule.pk]), {"action": "publish"}).status_code == 404
    assert client.post(reverse("dashboard_show_cancel", args=[show.pk])).status_code == 404
    rule.refresh_from_db()
    show.refresh_from_db()
    assert not rule.is_published and rule.shows.count() == 0
    assert show.status == Show.Status.SCHEDULED


def test_schedule_form_flow_and_overlap_message(client, london_performer):
    client.force_login(london_performer.user)
    day = (timezone.now() + datetime.timedelta(days=3)).date().isoformat()
    data = {"title": "Quiz", "kind": "public", "expected_minutes": 60, "date": day, "time": "20:00"}
    client.post(reverse("dashboard_schedule_one_off"), data)
    assert Show.objects.filter(title="Quiz").count() == 1
    response = client.post(reverse("dashboard_schedule_one_off"), {**data, "title": "Clash"}, follow=True)
    assert "overlaps" in response.content.decode()
    assert not Show.objects.filter(title="Clash").exists()


def test_cancel_show_marks_it_and_audits(performer):
    show = ShowFactory(performer=performer)
    schedule_services.cancel_show(show=show)
    show.refresh_from_db()
    assert show.status == Show.Status.CANCELLED
    assert AuditEvent.objects.filter(action="show.cancelled").exists()
    with pytest.raises(schedule_recurrence.ScheduleError):
        schedule_services.cancel_show(show=show)


def test_reminders_are_sent_once_to_followers(performer, django_capture_on_commit_callbacks):
    fan, other_fan = UserFactory(), UserFactory()
    Follow.objects.create(user=fan, performer=performer)
    Follow.objects.create(user=other_fan, performer=performer)
    soon = ShowFactory(performer=performer, scheduled_start=timezone.now() + datetime.timedelta(minutes=8))
    ShowFactory(performer=performer, scheduled_start=timezone.now() + datetime.timedelta(minutes=40))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert send_show_reminders() == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert send_show_reminders() == 0
    assert Notification.objects.filter(show=soon).count() == 2
    assert Notification.objects.count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([fan.email, other_fan.email])


def test_ical_feed_lists_upcoming_and_respects_region_blocks(client, performer):
    start = (timezone.now() + datetime.timedelta(days=1)).replace(microsecond=0)
    show = ShowFactory(performer=performer, title="Sketch club", expected_minutes=45, scheduled_start=start)
    response = client.get(reverse("schedule_ical", args=[performer.username]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    assert events[0].decoded("dtstart") == show.scheduled_start
    assert events[0].decoded("dtend") - events[0].decoded("dtstart") == datetime.timedelta(minutes=45)
    # New York and California have no age-verification law (see the jurisdiction rules).
    RegionBlock.objects.create(performer=performer, country="US", subdivision="NY")
    with override_settings(GEO_LOCAL_LOCATION="US-NY"):
        assert client.get(reverse("schedule_ical", args=[performer.username])).status_code == 404
    with override_settings(GEO_LOCAL_LOCATION="US-CA"):
        assert client.get(reverse("schedule_ical", args=[performer.username])).status_code == 200


def test_notifications_page_is_personal(client, performer, viewer, outsider):
    show = ShowFactory(performer=performer)
    Notification.objects.create(user=viewer, show=show, kind="show_reminder", text="Starts soon", url="/")
    client.force_login(outsider)
    assert "Starts soon" not in client.get(reverse("notifications")).content.decode()
    client.post(reverse("notifications"))
    assert Notification.objects.get().read_at is None
    client.force_login(viewer)
    assert "Starts soon" in client.get(reverse("notifications")).content.decode()
    client.post(reverse("notifications"))
    assert Notification.objects.get().read_at is not None

"""Issue 15 item 9: a refused schedule form comes back with the error at its
field and what was typed still there (it used to redirect to an empty form
with the error only as a toast)."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from marquee.schedule.models import ScheduleRule
from marquee.shows.models import Show

pytestmark = pytest.mark.django_db


def field_errors(html: str, name: str) -> str:
    match = re.search(rf'<ul class="errorlist" id="id_{name}_error">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


def toasts(html: str) -> str:
    match = re.search(r'<ul class="messages".*?</ul>', html, re.S)
    return match.group(0) if match else ""


def later(days: int) -> str:
    return (timezone.now() + datetime.timedelta(days=days)).date().isoformat()


def state():
    return (list(Show.objects.values_list("title", "status")), ScheduleRule.objects.count())


def test_overlap_is_shown_at_the_time_field_and_the_form_keeps_its_values(client, performer):
    client.force_login(performer.user)
    data = {"title": "Quiz", "kind": "public", "expected_minutes": 60, "date": later(3), "time": "20:00"}
    assert client.post(reverse("dashboard_schedule_one_off"), data).status_code == 302
    before = state()
    response = client.post(reverse("dashboard_schedule_one_off"), {**data, "title": "Clash night", "time": "20:30"})
    html = response.content.decode()
    assert response.status_code == 409
    assert "overlaps" in field_errors(html, "time")
    assert "overlaps" not in toasts(html)
    assert 'value="Clash night"' in html and 'value="20:30"' in html and f'value="{data["date"]}"' in html
    assert state() == before


def test_invalid_fields_are_marked_and_the_rest_is_kept(client, performer):
    client.force_login(performer.user)
    before = state()
    response = client.post(
        reverse("dashboard_schedule_one_off"),
        {"title": "Long one", "kind": "public", "expected_minutes": 2, "date": later(2), "time": ""},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert field_errors(html, "expected_minutes") and field_errors(html, "time")
    assert not field_errors(html, "title")
    assert 'value="Long one"' in html and 'value="2"' in html
    assert not toasts(html)
    assert state() == before


def test_price_out_of_range_is_shown_at_the_price(client, performer, settings):
    settings.PRICE_MAX_CENTS = 19999
    client.force_login(performer.user)
    before = state()
    data = {"title": "Gala", "kind": "premium", "price": "500.00", "expected_minutes": 60, "date": later(4)}
    response = client.post(reverse("dashboard_schedule_one_off"), {**data, "time": "19:00"})
    html = response.content.decode()
    assert 400 <= response.status_code < 500
    assert "$199.99" in field_errors(html, "price")
    assert 'value="500.00"' in html
    assert state() == before


def test_recurring_without_weekdays_is_marked_at_the_weekdays(client, performer):
    client.force_login(performer.user)
    before = state()
    data = {"title": "Weekly jam", "kind": "public", "expected_minutes": 60, "time": "18:00", "starts_on": later(1)}
    response = client.post(reverse("dashboard_schedule_recurring"), {**data, "publish": "on"})
    html = response.content.decode()
    assert response.status_code == 400
    assert field_errors(html, "weekdays")
    assert 'value="Weekly jam"' in html
    assert state() == before


def test_strangers_cannot_schedule(client, performer, viewer):
    client.force_login(viewer)
    before = state()
    data = {"title": "Intruder", "kind": "public", "expected_minutes": 60, "date": later(3), "time": "20:00"}
    assert client.post(reverse("dashboard_schedule_one_off"), data).status_code == 403
    assert state() == before

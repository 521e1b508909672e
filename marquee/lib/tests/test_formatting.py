"""Issue 15 items 1 and 2: one money filter, one time helper, the viewer's zone."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from marquee.lib import formatting
from tests.factories import ShowFactory

NY = zoneinfo.ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("cents", "text"),
    [(799, "$7.99"), (5, "$0.05"), (0, "$0.00"), (123456789, "$1,234,567.89"), (-1050, "-$10.50"), ("799", "$7.99")],
)
def test_money(cents, text):
    assert formatting.money(cents) == text
    assert Template("{{ c|money }}").render(Context({"c": cents})) == text


@pytest.mark.parametrize("bad", [None, "", "abc", 1.5j, True])
def test_money_refuses_non_amounts(bad):
    assert formatting.money(bad) == ""


def test_when_names_the_zone_and_says_how_soon():
    now = datetime.datetime(2026, 12, 6, 21, 0, tzinfo=datetime.UTC)
    # Sunday 6 Dec 2026, 7:30 PM in New York is 00:30 UTC on Monday 7 Dec.
    start = datetime.datetime(2026, 12, 7, 0, 30, tzinfo=datetime.UTC)
    assert formatting.when(start, now=now, zone=NY) == "Sun 6 Dec, 7:30 PM EST (in 3 h)"
    assert formatting.when(start, now=now, zone=datetime.UTC) == "Mon 7 Dec, 12:30 AM UTC (in 3 h)"
    assert formatting.when(start, now=start - datetime.timedelta(minutes=25), zone=NY).endswith("(in 25 min)")
    assert formatting.when(start, now=start + datetime.timedelta(hours=2), zone=NY).endswith("(2 h ago)")
    assert "(" not in formatting.when(start, now=start - datetime.timedelta(days=2), zone=NY)
    assert formatting.when(start, now=now, zone=NY, with_relative=False) == "Sun 6 Dec, 7:30 PM EST"
    assert formatting.when(start, now=datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC), zone=NY).startswith(
        "Sun 6 Dec 2026, 7:30 PM EST"
    )


def test_when_filter_uses_the_active_zone():
    start = datetime.datetime(2030, 7, 1, 16, 5, tzinfo=datetime.UTC)
    with timezone.override("Europe/Paris"):
        assert Template("{{ t|when }}").render(Context({"t": start})) == "Mon 1 Jul 2030, 6:05 PM CEST"
    assert Template("{{ t|day }}").render(Context({"t": start})) == "1 Jul 2030"


def test_room_lists_ticket_price_in_dollars(age_ok_client, performer):
    """The room page listed a $7.99 ticket as "$799"."""
    ShowFactory(performer=performer, kind="premium", price_cents=799, status="scheduled", title="Late show")
    html = age_ok_client.get(reverse("room", args=[performer.user.username])).content.decode()
    assert '<span class="price">$7.99</span>' in html
    assert "$799" not in html


def test_room_times_follow_the_signed_in_viewers_zone(client, performer, viewer):
    start = datetime.datetime(2030, 12, 8, 0, 30, tzinfo=datetime.UTC)
    ShowFactory(performer=performer, status="scheduled", title="Sunday show", scheduled_start=start)
    viewer.timezone = "America/New_York"
    viewer.save(update_fields=["timezone"])
    client.force_login(viewer)
    html = client.get(reverse("room", args=[performer.user.username])).content.decode()
    assert "Sat 7 Dec 2030, 7:30 PM EST" in html
    assert "Sun 8 Dec" not in html


def test_anonymous_times_follow_the_browser_cookie_and_ignore_bad_zones(age_ok_client, performer):
    start = datetime.datetime(2030, 12, 8, 0, 30, tzinfo=datetime.UTC)
    ShowFactory(performer=performer, status="scheduled", title="Sunday show", scheduled_start=start)
    url = reverse("room", args=[performer.user.username])
    age_ok_client.cookies["tz"] = "Asia/Tokyo"
    assert "Sun 8 Dec 2030, 9:30 AM JST" in age_ok_client.get(url).content.decode()
    age_ok_client.cookies["tz"] = "Mars/Olympus"
    assert "Sun 8 Dec 2030, 12:30 AM UTC" in age_ok_client.get(url).content.decode()

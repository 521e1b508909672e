"""Issue 15 item 9: two premium shows with the same title get two ticket
buttons that say when each show is (in the viewer's zone)."""

from __future__ import annotations

import datetime
import re
import zoneinfo

import pytest
from django.utils import timezone

from tests.factories import ShowFactory

pytestmark = pytest.mark.django_db


def test_ticket_buttons_carry_the_show_date(client, viewer, performer):
    viewer.timezone = "Asia/Tokyo"
    viewer.save()
    first = timezone.now() + datetime.timedelta(days=3)
    second = first + datetime.timedelta(days=7)
    for start in (first, second):
        ShowFactory(performer=performer, title="Gala", kind="premium", price_cents=799, scheduled_start=start)
    client.force_login(viewer)
    page = client.get("/rooms/performer/").content.decode()
    buttons = re.findall(r"<button class=\"btn\" type=\"submit\">(Ticket: .*?)</button>", page)
    gala = [b for b in buttons if b.startswith("Ticket: Gala — $7.99")]
    assert len(gala) == 2 and gala[0] != gala[1]
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    for start in (first, second):
        local = start.astimezone(tokyo)
        assert sum(f"{local:%a} {local.day} {local:%b}" in b and "JST" in b for b in gala) == 1, (local, gala)


def test_live_ticket_show_says_live_now(client, viewer, performer):
    ShowFactory(performer=performer, title="Now", kind="premium", price_cents=500, status="live", scheduled_start=None)
    client.force_login(viewer)
    page = client.get("/rooms/performer/").content.decode()
    assert re.search(r"Ticket: Now — \$5\.00<span class=\"offer-when\"> · live now</span>", page)

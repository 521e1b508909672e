"""Issue 15 item 9: room cards show how many watch a live room, from the
same presence count the room's chat shows, for the whole page at once (no
query per card) and cached briefly."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from marquee.lib import realtime
from marquee.shows.models import Show
from tests.factories import PerformerFactory, ShowFactory, UserFactory
from tests.support.presence import Presence

pytestmark = pytest.mark.django_db


@pytest.fixture
def presence(monkeypatch):
    present = Presence(monkeypatch)
    yield present
    present.clear()


def live_room(name: str):
    performer = PerformerFactory(user=UserFactory(username=name), display_name=name.title())
    ShowFactory(performer=performer, status=Show.Status.LIVE)
    return performer


def card_counts(html: str) -> dict[str, str]:
    cards = re.findall(r'<li class="card[^"]*" data-room="(\w+)">(.*?)</li>', html, re.S)
    return {
        room: (m.group(1) if (m := re.search(r"data-card-viewers>(\d+) watching<", body)) else None)
        for room, body in cards
    }


def test_live_cards_show_viewer_counts_offline_cards_none(age_ok_client, presence):
    live_room("busy")
    live_room("quiet")
    PerformerFactory(user=UserFactory(username="asleep"), display_name="Asleep")
    presence.set("busy", 7)
    presence.set("quiet", 0)
    html = age_ok_client.get(reverse("home")).content.decode()
    grid = html.split('id="room-grid"')[1]
    assert card_counts(grid) == {"busy": "7", "quiet": "0", "asleep": None}


def test_counts_are_cached_briefly(age_ok_client, presence, monkeypatch):
    live_room("busy")
    presence.set("busy", 2)
    age_ok_client.get(reverse("home"))
    presence.set("busy", 9)
    grid = age_ok_client.get(reverse("home")).content.decode().split('id="room-grid"')[1]
    assert card_counts(grid)["busy"] == "2"  # within the cache's few seconds
    from django.core.cache import cache

    cache.delete("realtime:viewers:busy")
    grid = age_ok_client.get(reverse("home")).content.decode().split('id="room-grid"')[1]
    assert card_counts(grid)["busy"] == "9"


def test_no_query_or_presence_read_per_card(age_ok_client, presence, monkeypatch):
    reads = []
    original = realtime.backend().viewer_counts
    monkeypatch.setattr(
        type(realtime.backend()), "viewer_counts", lambda self, rooms: reads.append(list(rooms)) or original(rooms)
    )

    def home_queries() -> int:
        from django.core.cache import cache

        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            assert age_ok_client.get(reverse("home")).status_code == 200
        return len(queries)

    live_room("first")
    live_room("second")
    few = home_queries()
    for i in range(6):
        live_room(f"more{i}")
    reads.clear()
    many = home_queries()
    assert many == few, (few, many)
    # One presence read for every live card on the grid (and one for the popular row, if shown).
    assert len(reads) <= 2 and sorted(reads[0]) == sorted(["first", "second", *(f"more{i}" for i in range(6))])

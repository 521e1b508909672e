"""Issue 15 item 7: the dashboard home and the stream page say LIVE (viewer
count, a link to the room) while the performer's show is live, READY
otherwise.  The stream page used to say "Ready" during a live show."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from marquee.shows.models import Show
from tests.factories import ShowFactory
from tests.support.presence import Presence

pytestmark = pytest.mark.django_db
PAGES = ("dashboard", "stream_settings")


@pytest.fixture
def presence(monkeypatch):
    present = Presence(monkeypatch)
    yield present
    present.clear()


def status_of(html: str) -> str:
    found = re.findall(r'data-live-status="(\w+)"', html)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("page", PAGES)
def test_offline_performer_sees_ready(client, performer, presence, page):
    ShowFactory(performer=performer, status=Show.Status.ENDED)
    client.force_login(performer.user)
    html = client.get(reverse(page)).content.decode()
    assert status_of(html) == "ready"
    assert "You are live" not in html and "watching" not in html


@pytest.mark.parametrize("page", PAGES)
def test_live_performer_sees_live_with_viewers_and_room_link(client, performer, presence, page):
    ShowFactory(performer=performer, status=Show.Status.LIVE, title="Sunday sketching")
    presence.set("performer", 3)
    client.force_login(performer.user)
    html = client.get(reverse(page)).content.decode()
    assert status_of(html) == "live"
    status = html.split('data-live-status="live"')[1].split("</p>")[0]
    assert "3 watching" in status
    assert f'href="{reverse("room", args=["performer"])}"' in status
    assert "Ready" not in status


@pytest.mark.parametrize("page", PAGES)
def test_a_performer_who_may_not_stream_is_told_why(client, performer, presence, page):
    performer.verification_status = "pending"
    performer.save(update_fields=["verification_status"])
    client.force_login(performer.user)
    html = client.get(reverse(page)).content.decode()
    assert status_of(html) == "blocked" and "verification" in html

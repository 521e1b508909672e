"""Issue 15 item 9: a paywalled room shows who is on, which show, since when,
what the ticket gives and its price, instead of a plain black box; never a
frame of the paid stream."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from marquee.shows.models import Show
from tests.factories import ShowFactory

pytestmark = pytest.mark.django_db


def paywall_of(html: str) -> str:
    return re.search(r'<div class="paywall" data-paywall>(.*?)</form>', html, re.S).group(1)


def test_paywall_shows_avatar_show_time_what_it_gives_and_price(client, performer, viewer):
    started = timezone.now() - datetime.timedelta(minutes=25)
    ShowFactory(
        performer=performer, status=Show.Status.LIVE, started_at=started, kind="premium", price_cents=799, title="Gala"
    )
    client.force_login(viewer)
    html = client.get("/rooms/performer/").content.decode()
    paywall = paywall_of(html)
    assert 'class="paywall-avatar' in paywall  # the avatar, or its initial when there is none
    assert "<strong data-paywall-title>Gala</strong>" in paywall
    assert "watch this whole show, live, until it ends" in paywall
    assert "Buy for $7.99" in paywall
    since = re.search(r'data-paywall-since data-localtime datetime="([^"]+)"', paywall).group(1)
    assert datetime.datetime.fromisoformat(since) == started
    # No playback of the paid stream and no thumbnail of it in the placeholder.
    assert "thumbnail.jpg" not in paywall and ".m3u8" not in html
    body = client.get("/api/v1/rooms/performer/").json()
    assert body["playback_url"] is None
    assert body["paywall"]["title"] == "Gala"
    assert datetime.datetime.fromisoformat(body["paywall"]["started_at"]) == started
    assert "whole show" in body["paywall"]["gives"]


def test_subscribers_paywall_says_what_membership_gives(client, performer, viewer):
    ShowFactory(performer=performer, status=Show.Status.LIVE, started_at=timezone.now(), kind="subscribers")
    client.force_login(viewer)
    paywall = paywall_of(client.get("/rooms/performer/").content.decode())
    assert "Fan-club members watch every members-only show" in paywall


def test_no_paywall_placeholder_for_a_free_show(client, performer, viewer):
    ShowFactory(performer=performer, status=Show.Status.LIVE, started_at=timezone.now())
    client.force_login(viewer)
    html = client.get("/rooms/performer/").content.decode()
    assert '<div class="paywall" data-paywall hidden>' in html
    assert client.get("/api/v1/rooms/performer/").json()["paywall"] is None

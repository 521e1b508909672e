"""The home grid's order and figures (performers.selectors.browse_performers):
live rooms first, then by the next scheduled show, rooms with no show coming
last, then by name; follower counts per room; a tag and a language filter
never repeat a room; suspended rooms are left out."""

from __future__ import annotations

import datetime

from django.utils import timezone

from marquee.lib.geo import Location
from marquee.performers.models import Tag
from marquee.performers.selectors import browse_performers
from tests.factories import FollowFactory, PerformerFactory, ShowFactory, UserFactory


def _room(name, **extra):
    return PerformerFactory(user=UserFactory(username=name), display_name=name.title(), **extra)


def test_live_first_then_next_show_then_none_by_name_with_follower_counts(db):
    now = timezone.now()
    later, soon, live, _bravo, none_a = (_room(n) for n in ("later", "soon", "onair", "bravo", "alpha"))
    _room("hidden", is_suspended=True)
    ShowFactory(performer=live, status="live", started_at=now)
    ShowFactory(performer=soon, scheduled_start=now + datetime.timedelta(hours=2))
    ShowFactory(performer=soon, scheduled_start=now + datetime.timedelta(days=3))  # only the next one counts
    ShowFactory(performer=later, scheduled_start=now + datetime.timedelta(days=1))
    ShowFactory(performer=none_a, scheduled_start=now - datetime.timedelta(hours=1), status="ended")  # past
    for _ in range(3):
        FollowFactory(performer=soon)
    FollowFactory(performer=live)

    rooms = list(browse_performers(location=Location()))

    assert [p.user.username for p in rooms] == ["onair", "soon", "later", "alpha", "bravo"]
    assert [p.is_live for p in rooms] == [True, False, False, False, False]
    assert [p.follower_count for p in rooms] == [1, 3, 0, 0, 0]
    assert rooms[1].next_show_at == now + datetime.timedelta(hours=2)
    assert rooms[3].next_show_at is None


def test_tag_and_language_filters_never_repeat_a_room(db):
    tagged, other = _room("tagged"), _room("other")
    games = Tag.objects.create(slug="games", label="Games", kind=Tag.Kind.TAG)
    music = Tag.objects.create(slug="music", label="Music", kind=Tag.Kind.TAG)
    english = Tag.objects.create(slug="en", label="English", kind=Tag.Kind.LANGUAGE)
    tagged.tags.add(games, music, english)
    other.tags.add(music)
    FollowFactory(performer=tagged)
    FollowFactory(performer=tagged)

    both = list(browse_performers(location=Location(), tag="games", language="en"))
    assert [p.user.username for p in both] == ["tagged"] and both[0].follower_count == 2
    assert [p.user.username for p in browse_performers(location=Location(), tag="music")] == ["other", "tagged"]
    assert list(browse_performers(location=Location(), tag="nothing")) == []

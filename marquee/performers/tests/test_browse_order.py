"""The home grid's order and figures (performers.selectors.browse_performers):
live rooms first, then by the next scheduled show, rooms with no show coming
last, then by name; follower counts per room; a tag and a language filter
never repeat a room; suspended rooms are left out."""

from __future__ import annotations

import datetime

from django.core.paginator import Paginator
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


def test_order_across_passed_starts_two_live_rooms_and_ties(db):
    """Every sort key at its edges: live rooms (by their next show, then by
    name, like every other room), a scheduled show whose start has passed (it no longer puts
    a room ahead; the next one still does), a cancelled show, two rooms with
    the same next show (by name), and rooms with nothing coming (by name).
    Region-blocked and suspended rooms are left out."""
    now = timezone.now()
    hour = datetime.timedelta(hours=1)
    names = ("zulu", "yankee", "xray", "whisky", "victor", "uniform", "tango", "sierra", "romeo")
    rooms = {name: _room(name) for name in names}
    _room("hidden", is_suspended=True)
    blocked = _room("blocked")
    blocked.region_blocks.create(country="US", subdivision="")
    ShowFactory(performer=blocked, status="live", started_at=now)
    # Three live rooms: zulu has a show coming, so it goes first; then by name.
    ShowFactory(performer=rooms["zulu"], status="live", started_at=now)
    ShowFactory(performer=rooms["zulu"], scheduled_start=now + hour)
    ShowFactory(performer=rooms["yankee"], status="live", started_at=now)
    ShowFactory(performer=rooms["romeo"], status="live", started_at=now)
    # A start that passed while the show is still "scheduled": not ahead of anyone.
    ShowFactory(performer=rooms["xray"], scheduled_start=now - hour)
    # A passed start and a later one: the later one counts.
    ShowFactory(performer=rooms["whisky"], scheduled_start=now - hour)
    ShowFactory(performer=rooms["whisky"], scheduled_start=now + 3 * hour)
    # Same next show: by name (uniform before victor).
    ShowFactory(performer=rooms["victor"], scheduled_start=now + 2 * hour)
    ShowFactory(performer=rooms["uniform"], scheduled_start=now + 2 * hour)
    # A cancelled show coming does not count.
    ShowFactory(performer=rooms["tango"], scheduled_start=now + hour, status="cancelled")

    rooms_seen = list(browse_performers(location=Location(country="US", subdivision="TX")))

    assert [p.user.username for p in rooms_seen] == [
        "zulu",  # live, a show coming
        "romeo",  # live, nothing coming, by name
        "yankee",  # live
        "uniform",  # next show in 2 h, tie by name
        "victor",  # next show in 2 h
        "whisky",  # next show in 3 h (its passed one ignored)
        "sierra",  # nothing coming, by name
        "tango",  # its only show coming was cancelled
        "xray",  # its only "scheduled" show already started
    ]
    assert [p.is_live for p in rooms_seen] == [True] * 3 + [False] * 6
    assert rooms_seen[0].next_show_at == now + hour and rooms_seen[1].next_show_at is None
    assert rooms_seen[3].next_show_at == now + 2 * hour
    assert rooms_seen[5].next_show_at == now + 3 * hour
    assert [p.next_show_at for p in rooms_seen[6:]] == [None, None, None]
    # A later page starts where the one before stopped.
    paged = browse_performers(location=Location(country="US", subdivision="TX"))
    assert [p.user.username for p in paged[4:7]] == ["victor", "whisky", "sierra"]


def test_every_slice_and_page_follows_the_same_order(db, django_assert_max_num_queries):
    """The grid is read in slices (pages, the API's offset/limit): any slice,
    inside the live/coming-up head, across its end or past it, is that part of
    the one order; counting and indexing agree."""
    now = timezone.now()
    rooms = [_room(f"room{i:02d}") for i in range(12)]
    for room in rooms[9:]:
        ShowFactory(performer=room, status="live", started_at=now)
    for hours, room in enumerate(rooms[5:8], start=1):
        ShowFactory(performer=room, scheduled_start=now + datetime.timedelta(hours=10 - hours))
    expected = ["room09", "room10", "room11", "room07", "room06", "room05", "room00", "room01", "room02", "room03"]
    expected += ["room04", "room08"]

    grid = browse_performers(location=Location())
    assert grid.count() == len(grid) == 12
    assert [p.user.username for p in grid] == expected
    for start in range(0, 13):
        for stop in range(start, 14):
            assert [p.user.username for p in grid[start:stop]] == expected[start:stop], (start, stop)
    assert grid[7].user.username == "room01" and grid[0].is_live and not grid[11].is_live
    with django_assert_max_num_queries(7):
        page = Paginator(browse_performers(location=Location()), 5).get_page(2)
        assert [p.user.username for p in page.object_list] == expected[5:10]
    assert [p.user.username for p in Paginator(grid, 5).get_page(3).object_list] == expected[10:]

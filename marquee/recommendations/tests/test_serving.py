"""Personal, cold-start and similar lists; visibility applied after the cache."""

from __future__ import annotations

from django.core.cache import cache

from marquee.lib.geo import UNKNOWN, Location
from marquee.performers.models import Performer, RegionBlock, Tag
from marquee.recommendations import selectors, services, training
from marquee.recommendations.models import Interaction
from marquee.shows.models import Show
from tests.factories import ShowFactory, UserFactory
from tests.support.recommendations import tagged_performer

TEXAS = Location(country="US", subdivision="TX")


def names(performers):
    return [p.user.username for p in performers]


def test_viewer_gets_their_taste_group_first(trained):
    fan = trained["cook_fans"][0]
    result = names(selectors.recommended_performers(viewer=fan, location=UNKNOWN, limit=4, live_boost=False))
    assert sorted(result) == ["c0", "c1", "c2", "c3"]
    art_fan = trained["art_fans"][0]
    result = names(selectors.recommended_performers(viewer=art_fan, location=UNKNOWN, limit=4, live_boost=False))
    assert sorted(result) == ["a0", "a1", "a2", "a3"]


def test_new_viewer_gets_popular_performers(trained):
    newcomer = UserFactory(username="newcomer")
    result = names(selectors.recommended_performers(viewer=newcomer, location=UNKNOWN, limit=3, live_boost=False))
    assert result[0] == "a0"  # watched or followed by the most viewers


def test_viewer_with_history_newer_than_the_model_is_folded_in(trained):
    newcomer = UserFactory(username="newcomer")
    Interaction.objects.create(user=newcomer, performer=trained["cooks"][1], kind="watch", amount=3600)
    result = names(selectors.recommended_performers(viewer=newcomer, location=UNKNOWN, limit=4, live_boost=False))
    assert sorted(result) == ["c0", "c1", "c2", "c3"]


def test_new_performer_reaches_viewers_and_rooms_with_the_same_tags(trained):
    rookie = tagged_performer("rookiecook", "cooking")  # joined after training: no interactions at all
    fan = trained["cook_fans"][0]
    personal = names(selectors.recommended_performers(viewer=fan, location=UNKNOWN, limit=8, live_boost=False))
    assert "rookiecook" in personal
    assert personal.index("rookiecook") < min(personal.index(a) for a in ["a1", "a2", "a3"] if a in personal)
    similar = names(selectors.similar_performers(performer=rookie, viewer=fan, location=UNKNOWN, limit=4))
    assert sorted(similar) == ["c0", "c1", "c2", "c3"]


def test_similar_performers_are_the_same_kind_and_never_the_room_itself(trained):
    cook = trained["cooks"][0]
    similar = names(selectors.similar_performers(performer=cook, viewer=None, location=UNKNOWN, limit=3))
    assert sorted(similar) == ["c1", "c2", "c3"]


def test_anonymous_visitors_get_live_rooms_first_then_popular(trained):
    ShowFactory(performer=trained["cooks"][3], status=Show.Status.LIVE)
    result = selectors.recommended_performers(viewer=None, location=UNKNOWN, limit=3)
    assert names(result)[:2] == ["c3", "a0"]
    assert result[0].is_live and not result[1].is_live


def test_hidden_performer_disappears_at_once_even_from_cached_lists(trained):
    fan = trained["cook_fans"][0]
    before = names(selectors.recommended_performers(viewer=fan, location=UNKNOWN, limit=20))
    assert "c1" in before
    key = selectors._cache_key(selectors.current_artifacts(), "viewer", fan.pk)
    cached_ids = [pk for pk, _, _ in cache.get(key)]
    services.hide_performer(user=fan, performer=trained["cooks"][1])
    after = names(selectors.recommended_performers(viewer=fan, location=UNKNOWN, limit=20))
    assert "c1" not in after
    assert [pk for pk, _, _ in cache.get(key)] == cached_ids  # served from the same cached list
    assert trained["cooks"][1].pk in cached_ids


def test_region_blocked_and_suspended_performers_never_appear(trained):
    fan = trained["cook_fans"][0]
    selectors.recommended_performers(viewer=fan, location=TEXAS, limit=20)  # warm the cache
    RegionBlock.objects.create(performer=trained["cooks"][2], country="US", subdivision="TX")
    suspended = trained["cooks"][0]
    suspended.is_suspended = True
    suspended.save()
    in_texas = names(selectors.recommended_performers(viewer=fan, location=TEXAS, limit=20))
    assert "c2" not in in_texas and "c0" not in in_texas and "c1" in in_texas
    elsewhere = names(selectors.recommended_performers(viewer=fan, location=Location(country="FR"), limit=20))
    assert "c2" in elsewhere and "c0" not in elsewhere
    anonymous = names(selectors.recommended_performers(viewer=None, location=TEXAS, limit=20))
    assert "c2" not in anonymous
    similar = names(selectors.similar_performers(performer=trained["cooks"][1], viewer=fan, location=TEXAS, limit=9))
    assert "c2" not in similar and "c0" not in similar


def test_a_performer_never_sees_their_own_room(trained):
    own = trained["artists"][1]
    Interaction.objects.create(user=own.user, performer=trained["artists"][2], kind="watch", amount=3600)
    result = names(selectors.recommended_performers(viewer=own.user, location=UNKNOWN, limit=20))
    assert "a1" not in result and "a2" in result


def test_new_model_version_replaces_cached_lists(trained):
    fan = trained["art_fans"][0]
    selectors.recommended_performers(viewer=fan, location=UNKNOWN, limit=5)
    old = selectors.current_artifacts()
    assert cache.get(selectors._cache_key(old, "viewer", fan.pk)) is not None
    training.train()
    new = selectors.current_artifacts()
    assert new.version != old.version
    assert cache.get(selectors._cache_key(new, "viewer", fan.pk)) is None


def test_without_any_model_popularity_comes_from_follows(db):
    tagged_performer("quiet")
    loved = tagged_performer("loved")
    for i in range(3):
        loved.followers.create(user=UserFactory(username=f"follower{i}"))
    assert selectors.current_artifacts() is None
    assert names(selectors.recommended_performers(viewer=None, location=UNKNOWN, limit=2)) == ["loved", "quiet"]


def test_unverified_performers_are_not_recommended(trained):
    trained["artists"][0].verification_status = "pending"
    trained["artists"][0].save()
    assert "a0" not in names(selectors.recommended_performers(viewer=None, location=UNKNOWN, limit=20))


def test_a_cached_request_reads_the_cache_once_and_still_applies_a_suspension_at_once(trained, monkeypatch):
    """The cached list and the live set come in one cache round trip; who may
    be seen is still decided by the database on that same request."""
    fan = trained["cook_fans"][0]
    selectors.recommended_performers(viewer=fan, location=UNKNOWN, limit=20)  # warm the list and the live set
    suspended = trained["cooks"][1]
    suspended.is_suspended = True
    suspended.save()
    reads = []
    real = selectors.cache
    counting = type(
        "CountingCache",
        (),
        {
            "get": lambda self, *a, **k: reads.append("get") or real.get(*a, **k),
            "get_many": lambda self, *a, **k: reads.append("get_many") or real.get_many(*a, **k),
            "set": lambda self, *a, **k: real.set(*a, **k),
        },
    )()
    monkeypatch.setattr(selectors, "cache", counting)
    result = names(selectors.recommended_performers(viewer=fan, location=UNKNOWN, limit=20))
    assert reads == ["get_many"]
    assert "c1" not in result and result


def test_live_rooms_and_excluded_rooms_do_not_widen_the_card_query(trained, monkeypatch):
    """A cached request loads the cards it can show (limit + a little slack),
    not the live set on top of them, and rooms already on the page are left
    out before that head is taken (not after, which cost a second query)."""
    for performer in [*trained["cooks"], *trained["artists"][1:]]:
        ShowFactory(performer=performer, status=Show.Status.LIVE)
    fan = trained["art_fans"][0]
    expected = names(selectors.recommended_performers(viewer=fan, location=UNKNOWN, limit=2))
    loaded = []
    real = selectors._visible_cards
    monkeypatch.setattr(selectors, "_visible_cards", lambda ids, *a: loaded.append(len(ids)) or real(ids, *a))
    monkeypatch.setattr(selectors, "HEAD_SLACK", 1)

    assert names(selectors.recommended_performers(viewer=fan, location=UNKNOWN, limit=2)) == expected
    assert loaded == [3]  # 2 + slack, though 7 rooms are live

    loaded.clear()
    first_two = {p.pk for p in selectors.recommended_performers(viewer=fan, location=UNKNOWN, limit=2)}
    loaded.clear()
    result = selectors.recommended_performers(viewer=fan, location=UNKNOWN, limit=2, exclude=first_two)
    assert len(result) == 2 and not first_two & {p.pk for p in result}
    assert loaded == [3]  # one card query


def test_a_cached_request_is_one_query_and_cards_carry_their_tags_in_order(trained, django_assert_num_queries):
    """Visibility, the card fields and the tags of a cached list come from one
    query; each card's tags are what ``performer.tags.all()`` lists."""
    cook = trained["cooks"][2]
    cook.tags.add(
        Tag.objects.create(slug="en", label="English", kind=Tag.Kind.LANGUAGE),
        Tag.objects.create(slug="baking", label="Baking", kind=Tag.Kind.TAG),
    )
    fan = trained["cook_fans"][0]
    selectors.recommended_performers(viewer=fan, location=UNKNOWN, limit=20)  # warm the list and the live set

    with django_assert_num_queries(1):
        result = selectors.recommended_performers(viewer=fan, location=UNKNOWN, limit=20)
        shown = {p.user.username: [(t.kind, t.slug, t.label) for t in p.tags.all()] for p in result}

    for performer in Performer.objects.filter(pk__in=[p.pk for p in result]):
        assert shown[performer.user.username] == [(t.kind, t.slug, t.label) for t in performer.tags.all()]
    assert shown["c2"] == [("language", "en", "English"), ("tag", "baking", "Baking"), ("tag", "cooking", "Cooking")]


def test_a_rooms_cached_similar_list_is_one_cache_read_and_one_query(trained, monkeypatch, django_assert_num_queries):
    """The room page's "similar" row: its list and the live set in one cache
    round trip, visibility and cards in one query, a suspension applied at once."""
    cook = trained["cooks"][1]
    selectors.similar_performers(performer=cook, viewer=None, location=UNKNOWN, limit=3)  # warm the cache
    suspended = trained["cooks"][2]
    suspended.is_suspended = True
    suspended.save()
    reads = []
    real = selectors.cache
    counting = type(
        "CountingCache",
        (),
        {
            "get": lambda self, *a, **k: reads.append("get") or real.get(*a, **k),
            "get_many": lambda self, *a, **k: reads.append("get_many") or real.get_many(*a, **k),
            "set": lambda self, *a, **k: real.set(*a, **k),
        },
    )()
    monkeypatch.setattr(selectors, "cache", counting)
    with django_assert_num_queries(1):
        similar = names(selectors.similar_performers(performer=cook, viewer=None, location=UNKNOWN, limit=3))
    assert reads == ["get_many"]
    assert "c2" not in similar and "c1" not in similar and len(similar) == 3

"""Query counts of the performer pages and API lists don't grow with the
number of performers shown (an N+1 would add queries per row): each is
measured with a few performers, then must stay within that count with four
times as many (``django_assert_max_num_queries``)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from marquee.performers.models import Follow, Tag
from tests.factories import PerformerFactory, ShowFactory, UserFactory

pytestmark = pytest.mark.django_db


def add_performers(count: int, *, start: int, follower=None) -> None:
    """Performers as on a real grid: tags and a language each, some live, some
    with a scheduled show, followers."""
    tag, _ = Tag.objects.get_or_create(slug="music", kind=Tag.Kind.TAG, defaults={"label": "Music"})
    language, _ = Tag.objects.get_or_create(slug="en", kind=Tag.Kind.LANGUAGE, defaults={"label": "English"})
    for i in range(start, start + count):
        performer = PerformerFactory(user=UserFactory(username=f"grid{i}"))
        performer.tags.add(tag, language)
        ShowFactory(performer=performer, status="live" if i % 3 == 0 else "scheduled")
        Follow.objects.create(user=UserFactory(username=f"fan{i}"), performer=performer)
        if follower is not None:
            Follow.objects.create(user=follower, performer=performer)


def count_queries(call) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code == 200
    return len(queries.captured_queries)


@pytest.mark.parametrize(
    "url",
    [reverse("home"), reverse("home") + "?tag=music", reverse("api_performers"), reverse("api_performers") + "?q=grid"],
)
def test_performer_lists_do_not_query_per_performer(age_ok_client, url, django_assert_max_num_queries):
    add_performers(3, start=0)
    few = count_queries(lambda: age_ok_client.get(url))
    add_performers(9, start=3)
    cache.clear()
    with django_assert_max_num_queries(few):
        response = age_ok_client.get(url)
    assert b"grid11" in response.content  # the added performers are listed


def test_follows_list_does_not_query_per_performer(client, django_assert_max_num_queries):
    fan = UserFactory(username="bigfan")
    client.force_login(fan)
    add_performers(3, start=0, follower=fan)
    few = count_queries(lambda: client.get(reverse("api_follows")))
    add_performers(9, start=3, follower=fan)
    cache.clear()
    with django_assert_max_num_queries(few):
        response = client.get(reverse("api_follows"))
    assert len(response.json()) == 12


def test_profile_page_query_count_does_not_grow_with_shows(age_ok_client, django_assert_max_num_queries):
    add_performers(1, start=0)
    url = reverse("profile", args=["grid0"])
    few = count_queries(lambda: age_ok_client.get(url))
    from marquee.performers.models import Performer

    performer = Performer.objects.get(user__username="grid0")
    for _ in range(8):
        ShowFactory(performer=performer)
    cache.clear()
    with django_assert_max_num_queries(few):
        response = age_ok_client.get(url)
    assert response.status_code == 200

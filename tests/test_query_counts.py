"""Every page and API list keeps its query count when its rows multiply, so
an N+1 can't come back unnoticed: each is measured with one round of rows
(every row from a different user, performer or show, which is what an N+1
multiplies on), then must stay within that count with four more rounds
(``django_assert_max_num_queries``).  The performer grid, profile and follows
are in marquee/performers/tests/test_query_counts.py."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from marquee.billing.models import Product, Purchase
from marquee.chat.models import ChatMessage
from marquee.performers.models import Follow, RoomModerator
from marquee.schedule.models import Notification
from marquee.shows.models import Show
from tests.factories import (
    MediaSetFactory,
    PayoutFactory,
    PerformerFactory,
    ScheduleRuleFactory,
    ShowFactory,
    SubscriptionFactory,
    TipMenuItemFactory,
    UserFactory,
)
from tests.support.billing import fund, tip

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings():
    # Tips and purchases here are set-up; the purchase gates have their own tests.
    with override_settings(AGE_VERIFICATION_BEFORE_PURCHASE=False, SANDBOX_ENABLED=True):
        yield


class World:
    """The performer (owner of the dashboard) and the viewer (owner of the
    wallet, purchases and notifications); ``grow`` adds one round of rows."""

    def __init__(self, performer, viewer):
        self.performer, self.viewer, self.round = performer, viewer, 0
        fund(viewer, 100)
        self.show = Show.objects.create(
            performer=performer, title="Live", status=Show.Status.LIVE, started_at=timezone.now()
        )

    def grow(self, per_round: int = 2) -> None:
        for _ in range(per_round):
            self.round += 1
            n = self.round
            other = PerformerFactory(user=UserFactory(username=f"other{n}"))
            fan = UserFactory(username=f"fan{n}")
            fund(fan, 100)
            tip(fan, self.performer, 5, message=f"hi {n}")  # the performer's tips, earnings, supporters
            tip(self.viewer, other, 1)  # the viewer's wallet history across performers
            later = timezone.now() + datetime.timedelta(days=n)
            other_show = ShowFactory(performer=other, status="scheduled", scheduled_start=later)
            ShowFactory(performer=self.performer, status="scheduled", scheduled_start=later)
            Purchase.objects.create(
                user=self.viewer,
                performer=other,
                show=other_show,
                provider="sandbox",
                product=Product.TICKET,
                amount_cents=500,
                description="ticket",
                status=Purchase.Status.PAID,
            )
            SubscriptionFactory(user=self.viewer, performer=other)
            Follow.objects.create(user=self.viewer, performer=other)
            Follow.objects.create(user=fan, performer=self.performer)
            Notification.objects.create(
                user=self.viewer, kind=Notification.Kind.SHOW_REMINDER, show=other_show, text=f"Soon {n}"
            )
            MediaSetFactory(performer=self.performer, title=f"Set {n}", price_tokens=10, is_published=True)
            TipMenuItemFactory(performer=self.performer, label=f"Song {n}")
            ScheduleRuleFactory(performer=self.performer)
            RoomModerator.objects.create(performer=self.performer, user=fan)
            PayoutFactory(performer=self.performer)
            ChatMessage.objects.create(
                performer=self.performer,
                seq=n,
                author=fan,
                author_name=fan.username,
                text=f"msg {n}",
                created_at=timezone.now(),
            )


@pytest.fixture
def world(performer, viewer):
    return World(performer, viewer)


def count_queries(call) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code == 200, (response.status_code, response.content[:300])
    return len(queries.captured_queries)


ROOM = ["performer"]
# (url name, args, who is logged in)
PAGES = [
    ("room", ROOM, "viewer"),
    ("room_content", ROOM, "viewer"),
    ("dashboard", [], "performer"),
    ("dashboard_room", [], "performer"),
    ("dashboard_schedule", [], "performer"),
    ("dashboard_content", [], "performer"),
    ("dashboard_earnings", [], "performer"),
    ("dashboard_privates", [], "performer"),
    ("wallet", [], "viewer"),
    ("purchase_history", [], "viewer"),
    ("notifications", [], "viewer"),
]
API_LISTS = [
    ("api_wallet", [], "viewer"),
    ("api_purchases", [], "viewer"),
    ("api_subscriptions", [], "viewer"),
    ("api_notifications", [], "viewer"),
    ("api_follows", [], "viewer"),
    ("api_room_tips", ROOM, "viewer"),
    ("api_room_messages", ROOM, "viewer"),
    ("api_public_schedule", ROOM, "viewer"),
    ("api_recommendations", [], "viewer"),
    ("api_dashboard", [], "performer"),
    ("api_dashboard_tip_menu", [], "performer"),
    ("api_dashboard_moderators", [], "performer"),
    ("api_dashboard_schedule", [], "performer"),
    ("api_my_sets", [], "performer"),
    ("api_dashboard_earnings", [], "performer"),
    ("api_earnings", [], "performer"),
    ("api_dashboard_private_requests", [], "performer"),
]


@pytest.mark.parametrize(("name", "args", "who"), PAGES + API_LISTS, ids=[p[0] for p in PAGES + API_LISTS])
def test_query_count_does_not_grow_with_rows(client, world, name, args, who, django_assert_max_num_queries):
    user = world.viewer if who == "viewer" else world.performer.user
    client.force_login(user)
    session = client.session
    session["age_gate_passed"] = True
    session.save()
    url = reverse(name, args=args)
    world.grow()
    few = count_queries(lambda: client.get(url))
    for _ in range(4):
        world.grow()
    cache.clear()
    with django_assert_max_num_queries(few):
        response = client.get(url)
    assert response.status_code == 200

"""Chat join through the real socket: during a paid or private show the
room's chat belongs to those who may watch it (the socket asks
``access.chat``, which asks ``access.watch``)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from marquee.chat.models import ChatMessage
from marquee.shows.models import Show
from tests.factories import ShowFactory
from tests.support.chat import Socket, run, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def _live(performer, kind):
    return ShowFactory(
        performer=performer,
        kind=kind,
        price_cents=799 if kind == "premium" else 0,
        status=Show.Status.LIVE,
        started_at=timezone.now(),
    )


@pytest.mark.parametrize("kind", ["premium", "subscribers", "private"])
def test_viewer_without_entitlement_cannot_join_a_paid_shows_chat(viewer, performer, moderator, kind):
    _live(performer, kind)
    before = ChatMessage.objects.count()
    cookies = {
        who: session_cookie(user)
        for who, user in (("viewer", viewer), ("performer", performer.user), ("mod", moderator))
    }

    async def scenario():
        stranger = Socket("performer", cookie=cookies["viewer"])
        assert await stranger.connect()
        assert await stranger.closed() == 4403
        assert not any(e["type"] == "hello" for e in stranger.buffer)
        # The performer and the room's moderators keep their chat.
        for who in ("performer", "mod"):
            s = Socket("performer", cookie=cookies[who])
            assert await s.connect()
            await s.event("hello")
            await s.disconnect()

    run(scenario)
    assert ChatMessage.objects.count() == before


def test_ticket_holder_joins_a_paid_shows_chat(viewer, performer, monkeypatch):
    show = _live(performer, "premium")
    monkeypatch.setattr("marquee.billing.selectors.has_show_ticket", lambda user, s: s.pk == show.pk)
    cookie = session_cookie(viewer)

    async def scenario():
        s = Socket("performer", cookie=cookie)
        assert await s.connect()
        assert (await s.event("hello"))["can_post"] is True
        await s.disconnect()

    run(scenario)

"""Over the real chat socket (ASGI, in-memory realtime): the performer hears
the request, the payer the charge, everyone's rights are re-asked when the
private starts (the public stops posting) and ends."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from marquee.chat.tests.conftest import (  # noqa: F401  (autouse fixtures of chat's tests)
    _chat_clean,
    _classifier_loaded,
)
from marquee.privates import services
from marquee.privates.tests.conftest import fund
from tests.factories import UserFactory
from tests.support.chat import Socket, run, session_cookie
from tests.support.compliance import approve_age

pytestmark = pytest.mark.django_db(transaction=True)


async def joined(cookie):
    s = Socket("performer", cookie=cookie)
    assert await s.connect()
    await s.event("hello", timeout=20)  # generous: the machine is shared and loaded
    return s


def test_private_events_and_rights_over_the_socket(room, viewer, outsider):
    approve_age(viewer)
    fund(viewer, 100)
    cookies = [session_cookie(u) for u in (room.user, viewer, outsider)]

    async def scenario():
        owner, payer, public = [await joined(c) for c in cookies]
        session = await sync_to_async(services.request_private)(user=viewer, performer=room)
        heard = await owner.event("private_requested")
        assert heard["viewer"] == "viewer" and heard["private_id"] == session.pk and heard["member_since"]
        assert not [e for e in await public.drain(0.2) if e["type"].startswith("private")]
        await sync_to_async(services.accept)(actor=room.user, session=session)
        await public.event("private_started", private_id=session.pk)
        assert (await public.event("rights"))["can_post"] is False
        charge = await payer.event("charge")
        assert (charge["period"], charge["tokens"], charge["balance_tokens"], charge["warning"]) == (1, 10, 90, False)
        assert not [e for e in await public.drain(0.2) if e["type"] == "charge"]
        await public.send({"type": "message", "text": "hello?", "ref": 1})
        assert (await public.event("error", ref=1))["code"] == "read_only"
        await sync_to_async(services.end_private)(actor=room.user, session=session)
        await public.event("private_ended", private_id=session.pk)
        assert (await public.event("rights"))["can_post"] is True
        for s in (owner, payer, public):
            await s.comm.disconnect()

    run(scenario)


def texts(events):
    return [e["text"] for e in events if e.get("type") == "message"]


def test_only_those_in_the_private_read_its_chat_live_in_history_and_on_resume(room, viewer, outsider):
    """Issue 13: during a private the chat is the payer's and the performer's
    (spies read); the rest of the room receives none of it — live, in a fresh
    join's history, on a resume, from the history API — and reads again once
    it ends."""
    spy_user = UserFactory(username="spy")
    for user in (viewer, spy_user):
        approve_age(user)
    fund(viewer, 100)
    fund(spy_user, 100)
    cookies = [session_cookie(u) for u in (room.user, viewer, spy_user, outsider)]

    async def scenario():
        owner, payer, spy, public = [await joined(c) for c in cookies]
        await payer.send({"type": "message", "text": "before", "ref": 1})
        await public.event("message", text="before", timeout=20)
        session = await sync_to_async(services.request_private)(user=viewer, performer=room)
        await sync_to_async(services.accept)(actor=room.user, session=session)
        await sync_to_async(services.join_spy)(user=spy_user, performer=room)
        assert (await payer.event("rights", timeout=20))["private"] is True
        assert (await spy.event("rights", private=True, timeout=20))["can_post"] is False
        assert (await public.event("rights", timeout=20))["private"] is False
        last_public = max(e.get("id", 0) for e in [*await public.drain(0.2), {"id": 0}])
        await payer.send({"type": "message", "text": "secret from the payer", "ref": 2})
        await payer.event("ack", ref=2, timeout=20)
        await owner.send({"type": "message", "text": "secret from the performer", "ref": 3})
        await owner.event("ack", ref=3, timeout=20)
        for inside in (owner, payer, spy):
            await inside.event("message", text="secret from the payer", timeout=20)
            await inside.event("message", text="secret from the performer", timeout=20)
        assert texts(await public.drain(0.5)) == []
        await spy.send({"type": "message", "text": "spy talks", "ref": 4})
        assert (await spy.event("error", ref=4, timeout=20))["code"] == "read_only"
        # A fresh join and a resume from before the private: none of it either.
        fresh = await joined(cookies[3])
        assert "before" in texts(fresh.buffer) and not [t for t in texts(fresh.buffer) if "secret" in t]
        resumed = Socket("performer", cookie=cookies[3], query=f"last_id={last_public}")
        assert await resumed.connect()
        await resumed.event("hello", timeout=20)
        assert texts(await resumed.drain(0.3)) == []
        # Those in it get the history of it on rejoining.
        again = await joined(cookies[1])
        assert "secret from the payer" in texts(again.buffer)
        await sync_to_async(services.end_private)(actor=room.user, session=session)
        await public.event("private_ended", private_id=session.pk, timeout=20)
        assert (await public.event("rights", timeout=20))["can_post"] is True
        await payer.event("rights", private=False, timeout=20)
        await payer.send({"type": "message", "text": "after", "ref": 5})
        await public.event("message", text="after", timeout=20)
        for s in (owner, payer, spy, public, fresh, resumed, again):
            await s.disconnect()

    run(scenario)


@pytest.mark.django_db
def test_the_history_api_keeps_a_privates_chat_to_those_in_it(client, room, viewer, outsider):
    from django.utils import timezone

    from marquee.chat.models import ChatMessage

    fund(viewer, 100)
    session = services.request_private(user=viewer, performer=room)
    services.accept(actor=room.user, session=session)
    for seq, (text, audience) in enumerate([("public", ""), ("secret", f"p{session.pk}"), ("other", "p999999")], 1):
        ChatMessage.objects.create(
            performer=room,
            seq=seq,
            author=viewer,
            author_name="viewer",
            text=text,
            audience=audience,
            created_at=timezone.now(),
        )

    def history(user):
        client.force_login(user)
        return texts(client.get("/api/v1/rooms/performer/messages/").json()["messages"])

    approve_age(outsider)
    approve_age(viewer)
    assert history(outsider) == ["public"]
    assert history(viewer) == ["public", "secret"]
    assert history(room.user) == ["public", "secret"]
    services.end_private(actor=viewer, session=session)
    assert history(viewer) == ["public"]  # read during the show, not after


def test_a_post_uses_the_rooms_cached_private_state_and_a_private_event_renews_it(room, viewer, outsider, monkeypatch):
    """The socket keeps the room's private state between private events, so a
    post costs no query for it; a stranger still can't post into a private
    that started after the state was kept, and an ended private reopens the
    chat at once.  Each socket's own re-check of its rights is held back
    here (as when it is slow), so the kept room state is the only guard."""
    from marquee.chat import consumers
    from marquee.chat.hub import UNKNOWN, get_hub
    from marquee.chat.models import ChatMessage
    from marquee.lib.realtime import recent_events

    async def slow_recheck(self, conn, *, rights):
        return None

    monkeypatch.setattr(consumers.ChatSocket, "_recheck", slow_recheck)
    approve_age(viewer)
    approve_age(outsider)
    fund(viewer, 100)
    cookies = [session_cookie(u) for u in (room.user, viewer, outsider)]

    async def scenario():
        owner, payer, stranger = [await joined(c) for c in cookies]
        hub = get_hub()
        assert hub.private_state("performer")[1] is UNKNOWN
        await stranger.send({"type": "message", "text": "before", "ref": 1})
        await stranger.event("ack", ref=1, timeout=20)
        assert hub.private_state("performer")[1] is None  # kept: the room is public
        session = await sync_to_async(services.request_private)(user=viewer, performer=room)
        await sync_to_async(services.accept)(actor=room.user, session=session)
        await stranger.event("private_started", private_id=session.pk, timeout=20)
        for ref in (2, 3):  # asked once after the event, then from what was kept
            await stranger.send({"type": "message", "text": f"intruder {ref}", "ref": ref})
            assert (await stranger.event("error", ref=ref, timeout=20))["code"] == "private_show"
        assert hub.private_state("performer")[1].audience == f"p{session.pk}"
        await payer.send({"type": "message", "text": "secret", "ref": 4})
        await payer.event("ack", ref=4, timeout=20)  # the payer talks in it
        seen = texts(await owner.drain(0.3)) + texts(await payer.drain(0.1))
        assert not [t for t in seen if t.startswith("intruder")]
        _, history = await sync_to_async(recent_events)("performer")
        assert not [raw for _, raw in history if "intruder" in raw]
        assert not await sync_to_async(ChatMessage.objects.filter(text__startswith="intruder").exists)()
        await sync_to_async(services.end_private)(actor=room.user, session=session)
        await stranger.event("private_ended", private_id=session.pk, timeout=20)
        await stranger.send({"type": "message", "text": "after", "ref": 5})
        await stranger.event("ack", ref=5, timeout=20)
        await payer.event("message", text="after", timeout=20)
        assert hub.private_state("performer")[1] is None
        for s in (owner, payer, stranger):
            await s.disconnect()

    run(scenario)

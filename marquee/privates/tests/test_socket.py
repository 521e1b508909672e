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
from tests.support.chat import Socket, run, session_cookie
from tests.support.compliance import approve_age

pytestmark = pytest.mark.django_db(transaction=True)


async def joined(cookie):
    s = Socket("performer", cookie=cookie)
    assert await s.connect()
    await s.event("hello")
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

from __future__ import annotations

import pytest

from tests.support.chat import Socket, run, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def test_logged_in_viewer_posts_and_another_receives(viewer, outsider, performer):
    a_cookie = session_cookie(viewer)
    b_cookie = session_cookie(outsider)

    async def scenario():
        a = Socket("performer", cookie=a_cookie)
        b = Socket("performer", cookie=b_cookie)
        assert await a.connect() and await b.connect()
        hello = await a.event("hello")
        assert hello["user"] == "viewer" and hello["can_post"] is True and hello["is_moderator"] is False
        await b.event("hello")
        await a.send({"type": "message", "text": "hi there", "ref": "r1"})
        ack = await a.event("ack", ref="r1")
        got = await b.event("message")
        assert got["text"] == "hi there" and got["user"] == "viewer" and got["id"] == ack["message_id"]
        await a.disconnect()
        await b.disconnect()

    run(scenario)

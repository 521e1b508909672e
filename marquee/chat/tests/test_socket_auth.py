"""Who may open the room chat socket, and when it closes."""

from __future__ import annotations

import asyncio

import pytest
from allauth.headless.tokens.strategies.jwt import internal
from django.test import Client

from marquee.audit.models import AuditEvent
from marquee.chat.models import ChatBan
from marquee.performers.models import RegionBlock
from tests.support.chat import Socket, run, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def access_token(user, expires_in=None) -> str:
    client = Client()
    client.force_login(user)
    session = client.session
    if expires_in is None:
        return internal.create_access_token(user, session, {})
    return internal.create_token(
        "access", sub=str(user.pk), sid=internal.session_key_to_sid(session.session_key), expires_in=expires_in
    )[0]


def test_jwt_first_message_authenticates(viewer, performer):
    token = access_token(viewer)

    async def scenario():
        s = Socket("performer")
        assert await s.connect()
        await s.send({"type": "auth", "token": token})
        hello = await s.event("hello")
        assert hello["user"] == "viewer" and hello["can_post"] is True
        await s.send({"type": "message", "text": "hello from the app", "ref": 1})
        await s.event("ack", ref=1)
        await s.disconnect()

    run(scenario)


@pytest.mark.parametrize("token", ["not-a-jwt", "", None])
def test_bad_token_closes_4401(viewer, performer, token):
    async def scenario():
        s = Socket("performer")
        assert await s.connect()
        await s.send({"type": "auth", "token": token})
        assert await s.closed() == 4401
        assert (await s.event("error"))["code"] == "invalid_token"

    run(scenario)


def test_token_of_logged_out_session_is_refused(viewer, performer):
    """Stateful validation: the session is gone, so the token is dead."""
    client = Client()
    client.force_login(viewer)
    token = internal.create_access_token(viewer, client.session, {})
    client.logout()

    async def scenario():
        s = Socket("performer")
        assert await s.connect()
        await s.send({"type": "auth", "token": token})
        assert await s.closed() == 4401

    run(scenario)


def test_no_auth_within_deadline_closes_4401(settings, performer):
    settings.CHAT_AUTH_TIMEOUT_SECONDS = 1

    async def scenario():
        s = Socket("performer")
        assert await s.connect()
        assert await s.closed(timeout=3) == 4401
        assert (await s.event("error"))["code"] == "auth_timeout"

    run(scenario)


def test_first_message_must_be_auth(performer):
    async def scenario():
        s = Socket("performer")
        assert await s.connect()
        await s.send({"type": "message", "text": "hi"})
        assert await s.closed() == 4401

    run(scenario)


def test_socket_closes_when_token_expires_unless_reauthenticated(viewer, performer):
    short = access_token(viewer, expires_in=3)
    short2 = access_token(viewer, expires_in=3)
    fresh = access_token(viewer, expires_in=120)

    async def scenario():
        expiring = Socket("performer")
        renewed = Socket("performer")
        assert await expiring.connect() and await renewed.connect()
        await expiring.send({"type": "auth", "token": short})
        await renewed.send({"type": "auth", "token": short2})
        await expiring.event("hello")
        await renewed.event("hello")
        await renewed.send({"type": "auth", "token": fresh})
        await renewed.event("authenticated")
        assert await expiring.closed(timeout=6) == 4401
        assert (await expiring.event("error"))["code"] == "token_expired"
        await asyncio.sleep(0.5)
        await renewed.send({"type": "ping", "ref": "still-there"})
        await renewed.event("pong", ref="still-there")
        assert renewed.close_code is None
        await renewed.disconnect()

    run(scenario)


def test_logout_closes_the_sessions_sockets(viewer, performer):
    client = Client()
    client.force_login(viewer)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()

    async def scenario():
        s = Socket("performer", cookie=cookie)
        assert await s.connect()
        await s.event("hello")
        from asgiref.sync import sync_to_async

        await sync_to_async(client.post)("/accounts/logout/")
        assert await s.closed() == 4401
        assert (await s.event("error"))["code"] == "logged_out"

    run(scenario)


def test_anonymous_past_age_gate_reads_but_cannot_post(age_ok_client, viewer, performer):
    cookie = f"sessionid={age_ok_client.cookies['sessionid'].value}".encode()
    viewer_cookie = session_cookie(viewer)

    async def scenario():
        anon = Socket("performer", cookie=cookie)
        poster = Socket("performer", cookie=viewer_cookie)
        assert await anon.connect() and await poster.connect()
        hello = await anon.event("hello")
        assert hello["user"] is None and hello["can_post"] is False
        await poster.event("hello")
        await poster.send({"type": "message", "text": "visible to guests"})
        assert (await anon.event("message"))["text"] == "visible to guests"
        await anon.send({"type": "message", "text": "sneaky"})
        assert (await anon.event("error"))["code"] == "read_only"
        await anon.disconnect()
        await poster.disconnect()

    run(scenario)


def test_anonymous_refused_when_room_is_members_only(age_ok_client, performer, settings):
    settings.CHAT_AUTH_TIMEOUT_SECONDS = 1
    performer.anonymous_can_read_chat = False
    performer.save()
    cookie = f"sessionid={age_ok_client.cookies['sessionid'].value}".encode()

    async def scenario():
        s = Socket("performer", cookie=cookie)
        assert await s.connect()
        assert await s.closed() == 4401
        assert not any(e["type"] == "hello" for e in s.buffer)

    run(scenario)


def test_anonymous_without_age_gate_must_authenticate(performer, settings):
    settings.CHAT_AUTH_TIMEOUT_SECONDS = 1

    async def scenario():
        s = Socket("performer")
        assert await s.connect()
        assert await s.closed() == 4401

    run(scenario)


def test_foreign_origin_is_refused(viewer, performer):
    cookie = session_cookie(viewer)

    async def scenario():
        s = Socket("performer", cookie=cookie, origin=b"http://evil.example")
        assert not await s.connect()

    run(scenario)


def test_region_blocked_viewer_is_refused_and_nothing_changes(viewer, performer, settings):
    settings.GEO_LOCAL_LOCATION = "US-TX"
    RegionBlock.objects.create(performer=performer, country="US")
    cookie = session_cookie(viewer)
    audits = AuditEvent.objects.count()

    async def scenario():
        s = Socket("performer", cookie=cookie, client_ip="10.1.2.3")
        assert await s.connect()
        assert await s.closed() == 4404
        assert not any(e["type"] == "hello" for e in s.buffer)

    run(scenario)
    assert AuditEvent.objects.count() == audits


def test_unknown_or_suspended_room_is_not_found(viewer, performer):
    performer.is_suspended = True
    performer.save()
    cookie = session_cookie(viewer)

    async def scenario():
        for room in ("performer", "nobody-here"):
            s = Socket(room, cookie=cookie)
            assert await s.connect()
            assert await s.closed() == 4404

    run(scenario)


def test_banned_user_cannot_connect(viewer, performer, staff):
    """A room ban refuses that room only: the same session still joins
    another room, and the refusal writes nothing."""
    from tests.factories import PerformerFactory, UserFactory

    PerformerFactory(user=UserFactory(username="other-room"))
    ChatBan.objects.create(performer=performer, user=viewer, kind="ban", created_by=performer.user)
    cookie = session_cookie(viewer)
    audits, bans = AuditEvent.objects.count(), ChatBan.objects.count()

    async def scenario():
        s = Socket("performer", cookie=cookie)
        assert await s.connect()
        assert await s.closed() == 4403
        assert (await s.event("error"))["code"] == "banned"
        assert not any(e["type"] == "hello" for e in s.buffer)
        other = Socket("other-room", cookie=cookie)
        assert await other.connect()
        hello = await other.event("hello")
        assert hello["user"] == "viewer" and hello["can_post"] is True
        await other.disconnect()

    run(scenario)
    assert (AuditEvent.objects.count(), ChatBan.objects.count()) == (audits, bans)

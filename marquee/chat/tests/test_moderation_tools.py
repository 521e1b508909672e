"""Moderator tools, live over the socket, with audit rows; strangers refused."""

from __future__ import annotations

import pytest

from marquee.audit.models import AuditEvent
from marquee.chat import bans, store
from marquee.chat.models import ChatBan, ChatMessage, ModerationAction
from tests.support.chat import Socket, run, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


async def joined(cookie, room="performer"):
    s = Socket(room, cookie=cookie)
    assert await s.connect()
    await s.event("hello")
    return s


def test_moderator_deletes_a_message_for_everyone(viewer, outsider, moderator, performer):
    cookies = [session_cookie(u) for u in (viewer, outsider, moderator)]

    async def scenario():
        author, other, mod = [await joined(c) for c in cookies]
        await author.send({"type": "message", "text": "delete me"})
        message = await other.event("message", text="delete me")
        await mod.event("message", text="delete me")
        await mod.send({"type": "mod", "action": "delete", "message_id": message["id"], "ref": "d"})
        await mod.event("ack", ref="d")
        for s in (author, other, mod):
            event = await s.event("moderation", action="deleted")
            assert event["message_ids"] == [message["id"]]
        late = await joined(cookies[1])
        snapshot = await late.drain(0.2)
        assert all(e.get("text") != "delete me" for e in snapshot)
        for s in (author, other, mod, late):
            await s.disconnect()
        return message["id"]

    message_id = run(scenario)
    store.flush()
    assert ChatMessage.objects.get(seq=message_id).state == "deleted"
    assert AuditEvent.objects.filter(action="chat.message_deleted", actor_id=moderator.pk).count() == 1
    assert ModerationAction.objects.filter(action="message_deleted").count() == 1


def test_stranger_cannot_moderate_and_nothing_changes(viewer, outsider, performer):
    cookies = [session_cookie(u) for u in (viewer, outsider)]
    audits = AuditEvent.objects.count()

    async def scenario():
        author, stranger = [await joined(c) for c in cookies]
        await author.send({"type": "message", "text": "mine"})
        message = await stranger.event("message", text="mine")
        for payload in (
            {"action": "delete", "message_id": message["id"]},
            {"action": "ban", "user": "viewer"},
            {"action": "timeout", "user": "viewer", "seconds": 60},
            {"action": "clear", "user": "viewer"},
            {"action": "slow_mode", "seconds": 30},
        ):
            await stranger.send({"type": "mod", "ref": payload["action"], **payload})
            assert (await stranger.event("error", ref=payload["action"]))["code"] == "forbidden"
        assert not [e for e in await author.drain(0.2) if e["type"] == "moderation"]
        await author.send({"type": "message", "text": "still can post"})
        await author.event("ack")
        for s in (author, stranger):
            await s.disconnect()

    run(scenario)
    performer.refresh_from_db()
    assert performer.chat_slow_mode_seconds == 0
    assert not ChatBan.objects.exists() and not ModerationAction.objects.exists()
    assert AuditEvent.objects.count() == audits


def test_timeout_ban_clear_and_slow_mode(viewer, outsider, moderator, performer):
    cookies = [session_cookie(u) for u in (viewer, outsider, moderator)]

    async def scenario():
        target, other, mod = [await joined(c) for c in cookies]
        await target.send({"type": "message", "text": "one"})
        await target.send({"type": "message", "text": "two"})
        ids = [(await other.event("message", text=t))["id"] for t in ("one", "two")]
        await mod.send({"type": "mod", "action": "clear", "user": "viewer", "ref": "c"})
        cleared = await other.event("moderation", action="cleared")
        assert cleared["message_ids"] == ids and cleared["user"] == "viewer"

        await mod.send({"type": "mod", "action": "timeout", "user": "viewer", "seconds": 120, "ref": "t"})
        timeout = await other.event("moderation", action="timeout")
        assert timeout["user"] == "viewer" and timeout["seconds"] == 120
        await target.send({"type": "message", "text": "am I muted?", "ref": "m"})
        assert (await target.event("error", ref="m"))["code"] == "timed_out"

        await mod.send({"type": "mod", "action": "slow_mode", "seconds": 15, "ref": "s"})
        assert (await other.event("moderation", action="slow_mode"))["seconds"] == 15

        await mod.send({"type": "mod", "action": "ban", "user": "viewer", "ref": "b"})
        assert await target.closed() == 4403
        assert (await other.event("moderation", action="ban"))["user"] == "viewer"
        again = Socket("performer", cookie=cookies[0])
        assert await again.connect()
        assert await again.closed() == 4403
        for s in (other, mod):
            await s.disconnect()

    run(scenario)
    performer.refresh_from_db()
    assert performer.chat_slow_mode_seconds == 15
    actions = set(AuditEvent.objects.filter(action__startswith="chat.").values_list("action", flat=True))
    assert actions == {"chat.messages_cleared", "chat.user_timeout", "chat.slow_mode", "chat.user_ban"}


def test_moderator_cannot_restrict_the_performer(moderator, performer):
    cookie = session_cookie(moderator)

    async def scenario():
        mod = await joined(cookie)
        await mod.send({"type": "mod", "action": "ban", "user": "performer", "ref": "b"})
        assert (await mod.event("error", ref="b"))["code"] == "forbidden"
        await mod.send({"type": "mod", "action": "timeout", "user": "nobody", "ref": "n"})
        assert (await mod.event("error", ref="n"))["code"] == "not_found"
        await mod.send({"type": "mod", "action": "timeout", "user": "performer", "seconds": "x", "ref": "x"})
        assert (await mod.event("error", ref="x"))["code"] == "invalid"
        await mod.send({"type": "mod", "action": "explode", "ref": "e"})
        assert (await mod.event("error", ref="e"))["code"] == "unknown_action"
        await mod.disconnect()

    run(scenario)
    assert not ChatBan.objects.exists()


def test_refused_messages_never_reach_others(viewer, outsider, performer):
    cookies = [session_cookie(u) for u in (viewer, outsider)]

    async def scenario():
        author, other = [await joined(c) for c in cookies]
        await author.send({"type": "message", "text": "visit www.example.com", "ref": "l"})
        error = await author.event("error", ref="l")
        assert error["code"] == "link_blocked" and "Links" in error["message"]
        assert not [e for e in await other.drain(0.3) if e["type"] == "message"]
        for s in (author, other):
            await s.disconnect()

    run(scenario)


def test_held_messages_reach_moderators_for_review(viewer, outsider, performer):
    from marquee.chat.models import ChatRoomRules

    ChatRoomRules.objects.create(performer=performer, regex_rules=[{"pattern": "review me", "action": "hold"}])
    cookies = [session_cookie(u) for u in (viewer, outsider, performer.user)]

    async def scenario():
        author, other, owner = [await joined(c) for c in cookies]
        await author.send({"type": "message", "text": "please review me", "ref": "h"})
        assert (await author.event("notice", ref="h"))["code"] == "held_for_review"
        review = await owner.event("review", action="held")
        assert review["text"] == "please review me"
        assert not [e for e in await other.drain(0.2) if e["type"] in ("review", "message")]
        await owner.send({"type": "mod", "action": "approve", "held_id": review["held_id"], "ref": "a"})
        assert (await other.event("message"))["text"] == "please review me"
        for s in (author, other, owner):
            await s.disconnect()

    run(scenario)


def test_staff_site_wide_ban_closes_sockets_everywhere(viewer, staff, performer):

    cookie = session_cookie(viewer)

    async def scenario():
        from asgiref.sync import sync_to_async

        s = await joined(cookie)
        await sync_to_async(bans.site_ban)(actor=staff, target=viewer, reason="spam bot")
        assert await s.closed() == 4403

    run(scenario)
    assert ChatBan.objects.get(user=viewer).performer is None
    assert AuditEvent.objects.filter(action="chat.site_ban", actor_id=staff.pk).exists()


def test_only_staff_can_ban_site_wide(viewer, outsider, performer):
    from marquee.chat import services

    with pytest.raises(services.ChatError):
        bans.site_ban(actor=performer.user, target=viewer, reason="x")
    with pytest.raises(services.ChatError):
        bans.site_ban(actor=outsider, target=viewer, reason="x")
    assert not ChatBan.objects.exists()

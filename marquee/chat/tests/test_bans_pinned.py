"""The chat restriction rules of ``marquee.chat.bans`` called directly
(mutation testing, issue 11): who may time out, ban, unban and site-ban whom,
the bounds of a timeout, and what each action writes (ban row, room log,
audit row) and announces (room event, kick).  Every refusal is checked to
leave nothing behind.  The two event senders are replaced by recorders, so
the payloads are compared whole."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from marquee.audit.models import AuditEvent
from marquee.chat import bans
from marquee.chat.models import ChatBan, ModerationAction
from marquee.chat.services import ChatError
from tests.factories import UserFactory, appoint_moderator

pytestmark = pytest.mark.django_db

WEEK = 7 * 24 * 3600


@pytest.fixture
def sent(monkeypatch):
    events = {"room": [], "user": []}
    monkeypatch.setattr(bans, "send_room_event", lambda *args: events["room"].append(args))
    monkeypatch.setattr(bans, "send_user_event", lambda *args: events["user"].append(args))
    return events


def nothing_written():
    return not ChatBan.objects.exists() and not ModerationAction.objects.exists() and not AuditEvent.objects.exists()


def refused(error, code, message, status):
    assert (error.value.code, error.value.message, error.value.status) == (code, message, status)


def test_a_timeout_is_recorded_logged_audited_and_announced(viewer, moderator, performer, sent):
    before = timezone.now()
    ban = bans.timeout_user(
        actor=moderator, performer=performer, target=viewer, seconds=90, reason="r" * 250, ip="192.0.2.9"
    )
    ban.refresh_from_db()
    assert (ban.performer_id, ban.user_id, ban.kind, ban.created_by_id, ban.lifted_at) == (
        performer.pk,
        viewer.pk,
        "timeout",
        moderator.pk,
        None,
    )
    assert ban.reason == "r" * 200
    span = datetime.timedelta(seconds=90)
    assert before + span <= ban.expires_at <= timezone.now() + span
    log = ModerationAction.objects.get()
    assert (log.performer_id, log.actor_id, log.action, log.target_user_id, log.details) == (
        performer.pk,
        moderator.pk,
        "user_timeout",
        viewer.pk,
        {"seconds": 90, "reason": "r" * 250},
    )
    audit = AuditEvent.objects.get()
    assert (audit.action, audit.actor_id, audit.ip, audit.target_type, audit.target_id) == (
        "chat.user_timeout",
        moderator.pk,
        "192.0.2.9",
        "performers.performer",
        str(performer.pk),
    )
    assert audit.details == {"seconds": 90, "reason": "r" * 250, "user_id": viewer.pk}
    room = performer.user.username
    assert sent["room"] == [
        (room, "moderation", {"action": "timeout", "user": viewer.username, "seconds": 90, "by": moderator.username})
    ]
    assert sent["user"] == []  # a timeout does not close the socket


@pytest.mark.parametrize("seconds", [0, -5, WEEK + 1])
def test_a_timeout_outside_one_second_to_a_week_is_refused(viewer, moderator, performer, sent, seconds):
    with pytest.raises(ChatError) as error:
        bans.timeout_user(actor=moderator, performer=performer, target=viewer, seconds=seconds)
    refused(error, "invalid", "A timeout lasts from 1 second to 7 days.", 400)
    assert nothing_written() and sent == {"room": [], "user": []}


@pytest.mark.parametrize("seconds", [1, WEEK])
def test_a_timeout_of_one_second_or_a_week_is_accepted(viewer, moderator, performer, sent, seconds):
    ban = bans.timeout_user(actor=moderator, performer=performer, target=viewer, seconds=seconds)
    assert ban.kind == "timeout" and ban.expires_at is not None


def test_a_ban_lasts_until_lifted_and_kicks_the_user(viewer, performer, sent):
    ban = bans.ban_user(actor=performer.user, performer=performer, target=viewer, reason="spam")
    ban.refresh_from_db()
    assert (ban.kind, ban.expires_at, ban.reason, ban.created_by_id) == ("ban", None, "spam", performer.user_id)
    room = performer.user.username
    assert sent["room"] == [
        (room, "moderation", {"action": "ban", "user": viewer.username, "seconds": None, "by": room})
    ]
    assert sent["user"] == [(viewer.pk, "kick", {"room": room, "reason": "banned"})]
    assert ModerationAction.objects.get().action == "user_ban"
    assert AuditEvent.objects.get().details == {"seconds": None, "reason": "spam", "user_id": viewer.pk}


def test_an_automatic_timeout_is_by_automod(viewer, performer, sent):
    ban = bans.restrict(actor=None, performer=performer, target=viewer, kind="timeout", seconds=30, reason="rate")
    assert (ban.created_by_id, ban.kind) == (None, "timeout")
    assert sent["room"][0][2]["by"] == "automod"
    assert ModerationAction.objects.get().actor_id is None


def test_a_stranger_cannot_restrict_or_lift(viewer, outsider, performer, sent):
    ChatBan.objects.create(performer=performer, user=viewer, kind="ban")
    for action in (
        lambda: bans.timeout_user(actor=outsider, performer=performer, target=viewer, seconds=60),
        lambda: bans.ban_user(actor=outsider, performer=performer, target=viewer),
        lambda: bans.lift_restrictions(actor=outsider, performer=performer, target=viewer),
        lambda: bans.ban_user(actor=AnonymousUser(), performer=performer, target=viewer),
    ):
        with pytest.raises(ChatError) as error:
            action()
        refused(error, "forbidden", "Only the performer and the room's moderators can do that.", 403)
    assert list(ChatBan.objects.values_list("kind", "lifted_at")) == [("ban", None)]
    assert not ModerationAction.objects.exists() and not AuditEvent.objects.exists()
    assert sent == {"room": [], "user": []}


def test_who_may_be_restricted(viewer, moderator, performer, staff, sent):
    with pytest.raises(ChatError) as error:
        bans.ban_user(actor=moderator, performer=performer, target=performer.user)
    refused(error, "forbidden", "The performer cannot be restricted in their own room.", 403)
    with pytest.raises(ChatError) as error:
        bans.ban_user(actor=moderator, performer=performer, target=moderator)
    refused(error, "invalid", "You cannot restrict yourself.", 400)
    other = UserFactory(username="other_mod")
    appoint_moderator(performer, other)
    with pytest.raises(ChatError) as error:
        bans.timeout_user(actor=moderator, performer=performer, target=other, seconds=60)
    refused(error, "forbidden", "Only the performer can restrict a moderator.", 403)
    assert nothing_written() and sent == {"room": [], "user": []}
    # The performer and staff may restrict a moderator; a moderator may restrict a viewer.
    assert bans.timeout_user(actor=performer.user, performer=performer, target=other, seconds=60).user_id == other.pk
    assert bans.ban_user(actor=staff, performer=performer, target=moderator).user_id == moderator.pk
    assert bans.ban_user(actor=other, performer=performer, target=viewer).user_id == viewer.pk


def test_lifting_ends_every_open_restriction_in_that_room_only(viewer, outsider, moderator, performer, sent):
    from tests.factories import PerformerFactory

    elsewhere = PerformerFactory(user=UserFactory(username="elsewhere"))
    long_ago = timezone.now() - datetime.timedelta(days=1)
    ChatBan.objects.create(performer=performer, user=viewer, kind="ban")
    ChatBan.objects.create(performer=performer, user=viewer, kind="timeout", expires_at=timezone.now())
    old = ChatBan.objects.create(performer=performer, user=viewer, kind="ban", lifted_at=long_ago)
    other_room = ChatBan.objects.create(performer=elsewhere, user=viewer, kind="ban")
    other_user = ChatBan.objects.create(performer=performer, user=outsider, kind="ban")
    site = ChatBan.objects.create(performer=None, user=viewer, kind="ban")

    before = timezone.now()
    assert bans.lift_restrictions(actor=moderator, performer=performer, target=viewer, ip="192.0.2.1") == 2
    lifted = ChatBan.objects.filter(lifted_at__gte=before)
    assert lifted.count() == 2 and set(lifted.values_list("user_id", "performer_id")) == {(viewer.pk, performer.pk)}
    for untouched in (other_room, other_user, site):
        untouched.refresh_from_db()
        assert untouched.lifted_at is None
    old.refresh_from_db()
    assert old.lifted_at == long_ago
    log = ModerationAction.objects.get()
    assert (log.action, log.actor_id, log.target_user_id, log.details) == (
        "user_unbanned",
        moderator.pk,
        viewer.pk,
        {"lifted": 2},
    )
    audit = AuditEvent.objects.get()
    assert (audit.action, audit.ip, audit.details) == (
        "chat.user_unbanned",
        "192.0.2.1",
        {"lifted": 2, "user_id": viewer.pk},
    )
    room = performer.user.username
    assert sent["room"] == [
        (room, "moderation", {"action": "unban", "user": viewer.username, "by": moderator.username})
    ]
    assert sent["user"] == []


def test_staff_ban_site_wide(viewer, staff, sent):
    ban = bans.site_ban(actor=staff, target=viewer, reason="spam bot", ip="192.0.2.7")
    ban.refresh_from_db()
    assert (ban.performer_id, ban.user_id, ban.kind, ban.expires_at, ban.created_by_id) == (
        None,
        viewer.pk,
        "ban",
        None,
        staff.pk,
    )
    audit = AuditEvent.objects.get()
    assert (audit.action, audit.actor_id, audit.ip, audit.target_type, audit.target_id, audit.details) == (
        "chat.site_ban",
        staff.pk,
        "192.0.2.7",
        "accounts.user",
        str(viewer.pk),
        {"seconds": None, "reason": "spam bot"},
    )
    assert not ModerationAction.objects.exists()
    assert sent == {"room": [], "user": [(viewer.pk, "kick", {"room": None, "reason": "banned"})]}


def test_only_staff_ban_site_wide_and_never_staff(viewer, outsider, performer, staff, sent):
    for actor in (None, AnonymousUser(), outsider, performer.user):
        with pytest.raises(ChatError) as error:
            bans.site_ban(actor=actor, target=viewer, reason="x")
        refused(error, "forbidden", "Only staff can ban site-wide.", 403)
    other_staff = UserFactory(username="staff2", is_staff=True)
    with pytest.raises(ChatError) as error:
        bans.site_ban(actor=staff, target=other_staff, reason="x")
    refused(error, "forbidden", "Staff accounts cannot be banned here.", 403)
    assert nothing_written() and sent == {"room": [], "user": []}

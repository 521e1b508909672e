"""What ``marquee.chat.bans`` records when the caller leaves the reason and
address out, the address it passes on when given one, and the ``chat.banned``
domain event (privates ends the banned payer's shows on it): survivors of the
mutation run of issue 11, each pinned here."""

from __future__ import annotations

import pytest

from marquee.audit.models import AuditEvent
from marquee.chat import bans
from marquee.chat.models import ChatBan

pytestmark = pytest.mark.django_db


@pytest.fixture
def domain_sent(monkeypatch):
    sent = []
    monkeypatch.setattr(bans.domain_events, "send", lambda name, **kwargs: sent.append((name, kwargs)))
    return sent


def audit_ip(action: str) -> str:
    return AuditEvent.objects.get(action=action).ip


def test_a_room_ban_with_no_reason_or_address_records_empty_ones(viewer, performer, domain_sent):
    ban = bans.ban_user(actor=performer.user, performer=performer, target=viewer)
    assert ChatBan.objects.get(pk=ban.pk).reason == ""
    assert audit_ip("chat.user_ban") == ""
    assert domain_sent == [("chat.banned", {"user_id": viewer.pk, "performer_id": performer.pk})]


def test_a_room_ban_passes_the_callers_address_to_the_audit_row(viewer, performer, domain_sent):
    bans.ban_user(actor=performer.user, performer=performer, target=viewer, reason="spam", ip="192.0.2.7")
    assert audit_ip("chat.user_ban") == "192.0.2.7"


def test_a_timeout_with_no_reason_or_address_records_empty_ones_and_ends_no_show(viewer, performer, domain_sent):
    ban = bans.timeout_user(actor=performer.user, performer=performer, target=viewer, seconds=60)
    assert ChatBan.objects.get(pk=ban.pk).reason == ""
    assert audit_ip("chat.user_timeout") == ""
    assert domain_sent == []  # a timeout is not a ban: paid shows go on


def test_restrict_with_no_address_records_an_empty_one(viewer, performer, domain_sent):
    bans.restrict(
        actor=performer.user, performer=performer, target=viewer, kind=ChatBan.Kind.TIMEOUT, seconds=5, reason=""
    )
    assert audit_ip("chat.user_timeout") == ""


def test_lifting_with_no_address_records_an_empty_one(viewer, performer, domain_sent):
    bans.ban_user(actor=performer.user, performer=performer, target=viewer, ip="192.0.2.8")
    bans.lift_restrictions(actor=performer.user, performer=performer, target=viewer)
    assert audit_ip("chat.user_unbanned") == ""


def test_a_site_ban_with_no_address_records_an_empty_one_and_names_no_room(viewer, staff, domain_sent):
    bans.site_ban(actor=staff, target=viewer, reason="abuse")
    assert audit_ip("chat.site_ban") == ""
    assert domain_sent == [("chat.banned", {"user_id": viewer.pk, "performer_id": None})]

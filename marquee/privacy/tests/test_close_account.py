"""Closing an account: refusals change nothing; a closure leaves no personal
value readable in any table, keeps the money trail and the audit chain whole."""

from __future__ import annotations

import datetime
import json
import uuid

import pytest
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import models
from django.utils import timezone

from marquee.accounts.models import User
from marquee.audit.models import AuditEvent
from marquee.billing import services as billing_services
from marquee.chat.models import ChatMessage
from marquee.compliance import crypto
from marquee.compliance.models import AgeVerification
from marquee.ledger import selectors as ledger_selectors
from marquee.ledger.models import Account, AccountKind, Entry, Transfer, TransferKind
from marquee.lib.geo import UNKNOWN
from marquee.performers.models import Follow
from marquee.privacy import services
from marquee.privacy.models import AccountClosure
from marquee.recommendations.models import Interaction
from marquee.schedule.golive_models import PushSubscription
from marquee.schedule.models import Notification
from tests.factories import (
    PASSWORD,
    AgeVerificationFactory,
    FollowFactory,
    PerformerFactory,
    UserFactory,
    enable_totp,
    reauthenticate,
)
from tests.support.billing import fund

DOB = datetime.date(1981, 2, 3)
IP = "203.0.113.77"
AGENT = "QuillBrowser/7.1"
DEVICE = "vivian-push-device-77"

# Kept on purpose (docs/privacy.md): the hash-chained audit log (its rows are
# immutable; IPs go by retention, erasure is its own event) and 2257 records.
RETAINED = {"audit.auditevent", "compliance.performerrecord", "compliance.recordalias"}
PERSONAL_FIELDS = (
    models.CharField,
    models.EmailField,
    models.TextField,
    models.GenericIPAddressField,
    models.JSONField,
    models.DateField,
)


@pytest.fixture
def person(db, performer):
    """A viewer with something in every place personal data lives."""
    user = UserFactory(
        username="vivian-quill",
        email="vivian.quill@mail.example",
        first_name="Vivian",
        last_name="Quillfeather",
        date_of_birth=DOB,
        timezone="Europe/Lisbon",
    )
    enable_totp(user)
    fund(user, 100)
    billing_services.send_tip(
        user=user, performer=performer, tokens=30, idempotency_key=uuid.uuid4().hex, location=UNKNOWN, message="great"
    )
    FollowFactory(user=user, performer=performer)
    Notification.objects.create(user=user, kind="live", text="Your room is live", url="/r/")
    Interaction.objects.create(user=user, performer=performer, kind=Interaction.Kind.WATCH, amount=60)
    ChatMessage.objects.create(
        performer=performer,
        seq=1,
        author=user,
        author_name=user.username,
        text="hi all",
        created_at=timezone.now(),
    )
    UserSession.objects.create(user=user, ip=IP, session_key="k" * 32, user_agent=AGENT)
    PushSubscription.objects.create(
        user=user, endpoint=f"https://fcm.googleapis.com/fcm/send/{DEVICE}", p256dh="k", auth="a"
    )
    document = crypto.write_private("age", b"passport scan")
    AgeVerificationFactory(user=user, approved=True, provider_reference="ref-vivian-quill", document_path=document)
    LogEntry.objects.create(
        user=user,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(user.pk),
        object_repr=str(user),
        action_flag=CHANGE,
    )
    user.document = document
    return user


def needles(user):
    return [user.username, user.email, user.last_name, IP, AGENT, "ref-vivian-quill", DOB.isoformat(), DEVICE]


def personal_values_left(values):
    found = []
    for model in apps.get_models():
        if model._meta.label_lower in RETAINED:
            continue
        fields = [f for f in model._meta.concrete_fields if isinstance(f, PERSONAL_FIELDS)]
        for row in model.objects.values_list("pk", *[f.attname for f in fields]):
            for field, value in zip(fields, row[1:], strict=True):
                if value is None:
                    continue
                text = json.dumps(value, default=str) if isinstance(field, models.JSONField) else str(value)
                for needle in values:
                    if needle.lower() in text.lower():
                        found.append(f"{model._meta.label}.{field.name} (pk {row[0]}) holds {needle!r}")
    return found


def test_the_walk_finds_personal_values_before_closure(person):
    # The walk can fail: before closure it finds the person everywhere.
    left = personal_values_left(needles(person))
    for where in (
        "accounts.User.email",
        "usersessions.UserSession.ip",
        "chat.ChatMessage.author_name",
        "schedule.PushSubscription.endpoint",
    ):
        assert any(item.startswith(where) for item in left), where


def test_closed_account_leaves_no_personal_value_in_any_table(client, person, django_capture_on_commit_callbacks):
    values = needles(person)
    client.force_login(person)
    reauthenticate(client)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/me/close/")

    assert response.status_code == 200, response.content
    assert personal_values_left(values) == []
    person.refresh_from_db()
    assert person.username == f"deleted-{person.pk}" and not person.is_active and not person.has_usable_password()
    assert not Follow.objects.filter(user=person).exists()
    assert not Notification.objects.filter(user=person).exists()
    assert not Interaction.objects.filter(user=person).exists()
    assert not Authenticator.objects.filter(user=person).exists()
    assert ChatMessage.objects.get(author=person).author_name == "deleted user"
    verification = AgeVerification.objects.get(user=person)
    assert verification.status == "approved" and verification.document_path == ""
    with pytest.raises(FileNotFoundError):
        crypto.read_private(person.document)
    # The session that closed the account is over.
    assert client.get("/api/v1/me/close/").status_code in (401, 403)


def test_closure_keeps_the_money_trail_and_writes_off_tokens_to_a_named_account(client, person):
    transfers_before = set(Transfer.objects.filter(user=person).values_list("pk", flat=True))
    assert ledger_selectors.wallet_balance(person) == 70
    client.force_login(person)
    reauthenticate(client)

    body = client.post("/api/v1/me/close/").json()

    assert body["tokens_forfeited"] == 70
    assert ledger_selectors.wallet_balance(person) == 0
    # Every earlier transfer is still there, still pointing at the (now pseudonymous) user row.
    assert transfers_before < set(Transfer.objects.filter(user=person).values_list("pk", flat=True))
    forfeit = Transfer.objects.get(user=person, kind=TransferKind.FORFEIT)
    forfeited = Entry.objects.get(transfer=forfeit, account__kind=AccountKind.FORFEITED_TOKENS)
    assert forfeited.amount == 70 * 10  # TOKEN_VALUE_CENTS
    assert Account.objects.get(kind=AccountKind.FORFEITED_TOKENS).balance == 700
    call_command("ledger_check")
    call_command("audit_verify")
    event = AuditEvent.objects.get(action="privacy.account_closed")
    assert event.target_id == str(person.pk) and event.details["tokens_forfeited"] == 70


def _snapshot(user):
    user.refresh_from_db()
    return (
        user.username,
        user.email,
        user.is_active,
        AuditEvent.objects.count(),
        Transfer.objects.count(),
        ledger_selectors.wallet_balance(user),
        AccountClosure.objects.count(),
        Follow.objects.filter(user=user).count(),
    )


def test_without_reauthentication_nothing_happens(client, person):
    before = _snapshot(person)
    client.force_login(person)

    response = client.post("/api/v1/me/close/")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "reauthentication_required"
    assert _snapshot(person) == before


def test_a_stranger_cannot_close_anyone(client, person):
    before = _snapshot(person)

    assert client.post("/api/v1/me/close/").status_code in (401, 403)
    assert client.post("/me/close/").status_code == 302  # to the login page
    assert _snapshot(person) == before


def test_performer_with_unsettled_earnings_cannot_close_and_nothing_changes(client, person, performer):
    # The tip left the performer pending earnings.
    before = _snapshot(performer.user)
    client.force_login(performer.user)
    reauthenticate(client)

    response = client.post("/api/v1/me/close/")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "payouts_unsettled"
    assert _snapshot(performer.user) == before


def test_performer_with_nothing_owed_closes_and_leaves_the_catalogue(db, client):
    performer = PerformerFactory(user=UserFactory(username="gone-performer"), display_name="Gone Star", bio="Hi")
    client.force_login(performer.user)
    reauthenticate(client)

    assert client.post("/api/v1/me/close/").status_code == 200

    performer.refresh_from_db()
    assert performer.display_name == f"deleted-{performer.user.pk}" and performer.bio == ""
    assert performer.is_suspended
    assert personal_values_left(["gone-performer", "Gone Star"]) == []


def test_closing_twice_is_a_conflict(client, person):
    client.force_login(person)
    reauthenticate(client)
    assert client.post("/api/v1/me/close/").status_code == 200
    with pytest.raises(services.PrivacyError) as refused:
        services.close_account(user=person)
    assert refused.value.code == "already_closed"


def test_reopen_within_grace_restores_identity_and_final_closure_cannot(person):
    now = timezone.now()
    closure = services.close_account(user=person, now=now)

    services.reopen_account(closure=closure, now=now + datetime.timedelta(days=13))

    person.refresh_from_db()
    assert (person.username, person.email, person.date_of_birth, person.is_active) == (
        "vivian-quill",
        "vivian.quill@mail.example",
        DOB,
        True,
    )
    call_command("audit_verify")


def test_worker_makes_closures_final_after_the_grace_period_only(person, django_capture_on_commit_callbacks):
    now = timezone.now()
    closure = services.close_account(user=person, now=now)
    restore = closure.restore_name

    assert services.finalize_due_closures(now=now + datetime.timedelta(days=13, hours=23)) == 0
    assert crypto.read_private(restore)  # still reversible
    with django_capture_on_commit_callbacks(execute=True):
        assert services.finalize_due_closures(now=now + datetime.timedelta(days=14)) == 1

    closure.refresh_from_db()
    assert closure.status == AccountClosure.Status.FINAL and closure.restore_name == ""
    with pytest.raises(FileNotFoundError):
        crypto.read_private(restore)
    with pytest.raises(services.PrivacyError) as refused:
        services.reopen_account(closure=closure, now=now + datetime.timedelta(days=1))
    assert refused.value.code == "closure_final"
    call_command("audit_verify")


def test_web_page_shows_the_summary_then_closes_after_reauthentication(client, person):
    client.force_login(person)
    page = client.get("/me/close/")
    assert page.status_code == 200 and b"70 unspent tokens" in page.content

    assert client.post("/me/close/")["Location"].startswith("/accounts/reauthenticate/")
    assert not AccountClosure.objects.exists()

    reauthenticate(client, PASSWORD)
    assert client.post("/me/close/").status_code == 200
    assert AccountClosure.objects.get(user=person).status == AccountClosure.Status.CLOSED


def test_support_reopens_within_grace_with_a_command(person):
    services.close_account(user=person)
    call_command("privacy_reopen", str(person.pk))
    person.refresh_from_db()
    assert person.username == "vivian-quill" and person.is_active
    with pytest.raises(CommandError, match="no closed account"):
        call_command("privacy_reopen", "999999")

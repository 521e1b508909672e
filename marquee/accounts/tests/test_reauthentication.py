"""Issue 12: a stolen access token (or session) must not take an account over.

Sensitive changes (e-mail addresses, password, 2FA, payouts) need a recent
reauthentication, and the old address hears about every e-mail and password
change.
"""

from __future__ import annotations

import datetime

import pyotp
import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from marquee.audit.models import AuditEvent
from marquee.billing import services as billing_services
from marquee.billing.models import Payout
from marquee.ledger import selectors as ledger_selectors
from marquee.ledger.models import AccountKind, Transfer
from tests.factories import PASSWORD, ShowFactory
from tests.support.billing import pending_purchase

pytestmark = pytest.mark.django_db

THIEF = "thief@evil.test"


def _state(user):
    user.refresh_from_db()
    return {
        "emails": sorted(EmailAddress.objects.filter(user=user).values_list("email", "verified", "primary")),
        "password": user.password,
        "authenticators": sorted(Authenticator.objects.filter(user=user).values_list("type", flat=True)),
        "audit": AuditEvent.objects.count(),
    }


def _is_reauthentication_required(response) -> bool:
    """allauth's headless answer: 401 whose flows offer reauthentication."""
    if response.status_code != 401:
        return False
    flows = {flow["id"] for flow in response.json()["data"]["flows"]}
    return "reauthenticate" in flows


@pytest.fixture
def owner(viewer):
    EmailAddress.objects.create(user=viewer, email="viewer.backup@example.test", verified=True, primary=False)
    return viewer


@pytest.fixture
def stolen_access(app_client, owner):
    """Only the owner's access token, as a thief would copy it from a log."""
    response = app_client.login(owner.email)
    assert response.status_code == 200, response.content
    mail.outbox.clear()
    return response.json()["meta"]["access_token"]


def test_takeover_with_only_a_bearer_token_is_refused_at_the_first_step(app_client, owner, stolen_access):
    def as_thief(method, path, data=None):
        return app_client.call(method, path, data, access_token=stolen_access, session=False)

    assert app_client.me(stolen_access).status_code == 200  # the token itself works
    before = _state(owner)

    # Step 1 of the takeover: add the thief's address.
    response = as_thief("post", "/account/email", {"email": THIEF})
    assert _is_reauthentication_required(response), response.content
    assert not EmailAddress.objects.filter(email=THIEF).exists()
    assert mail.outbox == []  # no verification code went to the thief

    # The later steps are refused the same way on their own.
    response = as_thief("patch", "/account/email", {"email": "viewer.backup@example.test", "primary": True})
    assert _is_reauthentication_required(response), response.content
    response = as_thief("delete", "/account/email", {"email": "viewer.backup@example.test"})
    assert _is_reauthentication_required(response), response.content
    # Nor can the thief put a second factor of their own on the account.
    secret = as_thief("get", "/account/authenticators/totp").json()["meta"]["secret"]
    response = as_thief("post", "/account/authenticators/totp", {"code": pyotp.TOTP(secret).now()})
    assert _is_reauthentication_required(response), response.content

    # The thief's address is on no account, so asking for a reset gets no reset link.
    app_client.call("post", "/auth/password/request", {"email": THIEF}, session=False)
    assert not any("/password/reset/key/" in m.body for m in mail.outbox)

    assert _state(owner) == before


def test_after_reauthenticating_the_change_works_and_the_old_address_is_told(app_client, owner, stolen_access):
    """The same token whose session re-entered the password may change the
    primary address; the old address gets a notification."""
    access = stolen_access
    response = app_client.call(
        "post", "/auth/reauthenticate", {"password": PASSWORD}, access_token=access, session=False
    )
    assert response.status_code == 200, response.content

    response = app_client.call(
        "patch",
        "/account/email",
        {"email": "viewer.backup@example.test", "primary": True},
        access_token=access,
        session=False,
    )
    assert response.status_code == 200, response.content
    assert EmailAddress.objects.get(user=owner, primary=True).email == "viewer.backup@example.test"
    told = [m for m in mail.outbox if m.to == [owner.email]]
    assert len(told) == 1, [(m.to, m.subject) for m in mail.outbox]
    assert "viewer.backup@example.test" in told[0].body


def test_adding_an_address_tells_the_primary_address(app_client, owner, stolen_access):
    access = stolen_access
    response = app_client.call(
        "post", "/auth/reauthenticate", {"password": PASSWORD}, access_token=access, session=False
    )
    assert response.status_code == 200, response.content
    response = app_client.call(
        "post", "/account/email", {"email": "new.one@example.test"}, access_token=access, session=False
    )
    assert response.status_code == 200, response.content
    told = [m for m in mail.outbox if m.to == [owner.email]]
    assert len(told) == 1, [(m.to, m.subject) for m in mail.outbox]
    assert "new.one@example.test" in told[0].body and "added" in told[0].subject.lower()
    assert [m.to for m in mail.outbox if m.to != [owner.email]] == [["new.one@example.test"]]  # its code


def test_stolen_token_cannot_remove_the_owners_second_factor(app_client, performer):
    access, _ = app_client.login_with_totp(performer.user.email, performer.totp_secret)
    response = app_client.call("delete", "/account/authenticators/totp", access_token=access, session=False)
    assert _is_reauthentication_required(response), response.content
    assert Authenticator.objects.filter(user=performer.user, type=Authenticator.Type.TOTP).exists()


def test_password_change_tells_the_owner(app_client, owner, stolen_access):
    response = app_client.call(
        "post",
        "/account/password/change",
        {"current_password": PASSWORD, "new_password": "another-long-password-42"},
        access_token=stolen_access,
        session=False,
    )
    assert response.status_code in (200, 401), response.content  # 401: the session is logged out after the change
    owner.refresh_from_db()
    assert owner.check_password("another-long-password-42")
    told = [m for m in mail.outbox if m.to == [owner.email]]
    assert len(told) == 1, [(m.to, m.subject) for m in mail.outbox]
    assert "password" in told[0].subject.lower()


def test_web_email_change_needs_reauthentication(client, owner):
    client.force_login(owner)
    before = _state(owner)
    response = client.post("/accounts/email/", {"action_add": "", "email": THIEF})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/reauthenticate/")
    assert _state(owner) == before
    assert not EmailAddress.objects.filter(email=THIEF).exists()


# --- Payouts (billing calls accounts' recent-reauthentication check) --------


def _available_earnings(viewer, performer, cents):
    show = ShowFactory(performer=performer, kind="premium", price_cents=cents, status="live")
    purchase = pending_purchase(
        viewer, product="ticket", show=show, performer=performer, tokens=0, pack="", amount_cents=cents
    )
    billing_services.sandbox_complete_checkout(purchase=purchase, pay=True)
    billing_services.release_due_earnings(now=timezone.now() + datetime.timedelta(days=30))
    return ledger_selectors.performer_balances(performer)[AccountKind.PERFORMER_AVAILABLE]


@override_settings(PAYOUT_MINIMUM_CENTS=1000)
def test_payout_with_a_stolen_token_is_refused_and_changes_nothing(app_client, outsider, performer):
    available = _available_earnings(outsider, performer, 5000)
    assert available > 1000
    access, _ = app_client.login_with_totp(performer.user.email, performer.totp_secret)
    transfers, audit = Transfer.objects.count(), AuditEvent.objects.count()

    response = app_client.call("post", "/api/v1/payouts/", {"amount_cents": 1000}, access_token=access, session=False)
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "reauthentication_required"
    assert not Payout.objects.exists()
    assert Transfer.objects.count() == transfers and AuditEvent.objects.count() == audit
    assert ledger_selectors.performer_balances(performer)[AccountKind.PERFORMER_AVAILABLE] == available

    # The owner proves it again (second factor) in that app session: allowed.
    response = app_client.call(
        "post",
        "/auth/reauthenticate",
        {"password": PASSWORD},
        access_token=access,
        session=False,
    )
    assert response.status_code == 200, response.content
    response = app_client.call("post", "/api/v1/payouts/", {"amount_cents": 1000}, access_token=access, session=False)
    assert response.status_code == 201, response.content
    assert Payout.objects.get().amount_cents == 1000
    assert pyotp.TOTP(performer.totp_secret).now()


@override_settings(PAYOUT_MINIMUM_CENTS=1000)
def test_payout_reauthentication_expires(client, outsider, performer, settings):
    _available_earnings(outsider, performer, 5000)
    client.force_login(performer.user)
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0  # the proof is now too old
    response = client.post("/api/v1/payouts/", {"amount_cents": 1000}, content_type="application/json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "reauthentication_required"
    assert not Payout.objects.exists()

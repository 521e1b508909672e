"""Issue 15 item 7: the performer's payout page (balances, history, request,
settings).  Every write goes through billing.services; strangers are refused
and nothing changes."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import override_settings
from django.utils import timezone

from marquee.audit.models import AuditEvent
from marquee.billing import services
from marquee.billing.models import Payout, PayoutSettings
from marquee.ledger import selectors as ledger
from marquee.ledger.models import AccountKind, Transfer
from tests.factories import reauthenticate
from tests.support.billing import SANDBOX_SECRET, fund, tip

pytestmark = pytest.mark.django_db
PAGE = "/dashboard/payouts/"


@pytest.fixture(autouse=True)
def _money_settings():
    # Tokens are worth 10 cents, performers keep 60 %: the figures below are computed from these.
    with override_settings(
        SANDBOX_ENABLED=True,
        SANDBOX_WEBHOOK_SECRET=SANDBOX_SECRET,
        PERFORMER_SHARE_PERCENT=60,
        TOKEN_VALUE_CENTS=10,
        EARNINGS_HOLD_DAYS=7,
        PAYOUT_MINIMUM_CENTS=1000,
        AGE_VERIFICATION_BEFORE_PURCHASE=False,  # the buyer's gate is tested in compliance
    ):
        yield


def earn(performer, buyer, tokens: int) -> None:
    fund(buyer, tokens)
    tip(buyer, performer, tokens)
    services.release_due_earnings(now=timezone.now() + datetime.timedelta(days=30))


def state():
    return (
        list(Payout.objects.values_list("amount_cents", "status")),
        list(PayoutSettings.objects.values_list("method", "minimum_cents", "schedule")),
        Transfer.objects.count(),
        AuditEvent.objects.filter(action__startswith="billing.payout").count(),
    )


def field_errors(html: str, name: str) -> str:
    """The error list Django renders inside the field's own block."""
    match = re.search(rf'<ul class="errorlist" id="id_{name}_error">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


@override_settings(PAYOUT_MINIMUM_CENTS=1000)
def test_page_shows_balances_and_history(client, performer, viewer):
    earn(performer, viewer, 500)  # 5,000 cents gross → 3,000 available
    fund(viewer, 100)
    tip(viewer, performer, 100)  # 600 cents still on hold
    paid = services.request_payout(user=performer.user, amount_cents=1000)
    services.settle_payout(payout=paid, paid=True)
    services.request_payout(user=performer.user, amount_cents=1500)
    available = ledger.performer_balances(performer)[AccountKind.PERFORMER_AVAILABLE]
    assert available == 3000 - 1000 - 1500
    client.force_login(performer.user)
    html = client.get(PAGE).content.decode()
    assert re.search(r'data-testid="available">\$5\.00<', html)
    assert re.search(r'data-testid="pending">\$6\.00<', html)
    assert re.search(r'data-testid="in-flight">\$15\.00<', html)
    rows = re.findall(r"<tr data-payout=.*?</tr>", html, re.S)
    assert len(rows) == 2
    assert "$15.00" in rows[0] and "Requested" in rows[0]
    assert "$10.00" in rows[1] and "Paid" in rows[1]


@override_settings(PAYOUT_MINIMUM_CENTS=1000)
def test_request_needs_a_recent_password_then_pays_out(client, performer, viewer):
    earn(performer, viewer, 500)
    client.force_login(performer.user)
    before = state()
    response = client.post("/dashboard/payouts/request/", {"amount": "12.50"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/reauthenticate/")
    assert state() == before
    reauthenticate(client)
    response = client.post("/dashboard/payouts/request/", {"amount": "12.50"})
    assert response.status_code == 302 and response["Location"] == PAGE
    assert list(Payout.objects.values_list("amount_cents", "status")) == [(1250, "requested")]
    assert ledger.performer_balances(performer)[AccountKind.PAYOUTS_IN_FLIGHT] == 1250


@override_settings(PAYOUT_MINIMUM_CENTS=1000)
@pytest.mark.parametrize("amount, status, message", [("9.99", 400, "minimum payout"), ("30.01", 409, "more than")])
def test_refused_request_shows_the_error_at_the_field_and_keeps_the_amount(
    client, performer, viewer, amount, status, message
):
    earn(performer, viewer, 500)  # $30.00 available
    client.force_login(performer.user)
    reauthenticate(client)
    before = state()
    response = client.post("/dashboard/payouts/request/", {"amount": amount})
    html = response.content.decode()
    assert response.status_code == status
    assert message in field_errors(html, "amount")
    assert f'value="{amount}"' in html
    assert state() == before


def test_unverified_performer_cannot_request(client, performer, viewer):
    earn(performer, viewer, 1000)
    performer.verification_status = "pending"
    performer.save(update_fields=["verification_status"])
    client.force_login(performer.user)
    reauthenticate(client)
    html = client.get(PAGE).content.decode()
    assert "payout-request-form" not in html and "verification" in html
    before = state()
    response = client.post("/dashboard/payouts/request/", {"amount": "60.00"})
    assert response.status_code == 403
    assert state() == before


@override_settings(PAYOUT_MINIMUM_CENTS=2000, PAYOUT_MINIMUM_MAX_CENTS=50000, PAYOUT_METHODS=["bank_transfer", "paxum"])
def test_settings_form_saves_and_shows_errors_at_the_field(client, performer):
    client.force_login(performer.user)
    ok = client.post("/dashboard/payouts/settings/", {"method": "paxum", "minimum": "75.00", "schedule": "weekly"})
    assert ok.status_code == 302
    saved = PayoutSettings.objects.get(performer=performer)
    assert (saved.method, saved.minimum_cents, saved.schedule) == ("paxum", 7500, "weekly")
    before = state()
    low = client.post("/dashboard/payouts/settings/", {"method": "paxum", "minimum": "19.99", "schedule": "monthly"})
    assert low.status_code == 400
    html = low.content.decode()
    assert "$20.00" in field_errors(html, "minimum")
    assert 'value="19.99"' in html
    bad = client.post("/dashboard/payouts/settings/", {"method": "crypto", "minimum": "30", "schedule": "monthly"})
    assert bad.status_code == 400 and field_errors(bad.content.decode(), "method")
    assert state() == before


def test_strangers_are_refused_and_nothing_changes(client, performer, viewer):
    earn(performer, viewer, 1000)
    PayoutSettings.objects.create(performer=performer, method="paxum", minimum_cents=9000, schedule="weekly")
    before = state()
    client.force_login(viewer)
    reauthenticate(client)
    assert client.get(PAGE).status_code == 403
    assert client.post("/dashboard/payouts/request/", {"amount": "60.00"}).status_code == 403
    assert (
        client.post(
            "/dashboard/payouts/settings/", {"method": "check", "minimum": "50", "schedule": "manual"}
        ).status_code
        == 403
    )
    client.logout()
    assert client.post("/dashboard/payouts/request/", {"amount": "60.00"}).status_code == 302  # to the login page
    assert state() == before

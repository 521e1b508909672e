"""Issue 15 item 7: payout settings (method, minimum, schedule) per performer,
checked against the platform's limits in billing.prices, and scheduled payouts
that use them (once per period)."""

from __future__ import annotations

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from marquee.audit.models import AuditEvent
from marquee.billing import services
from marquee.billing.models import Payout, PayoutSettings
from marquee.ledger import selectors as ledger
from marquee.ledger.models import AccountKind, Transfer
from tests.factories import PerformerFactory, UserFactory, enable_totp
from tests.support.billing import fund, tip

pytestmark = pytest.mark.django_db
AVAILABLE, IN_FLIGHT = AccountKind.PERFORMER_AVAILABLE, AccountKind.PAYOUTS_IN_FLIGHT
URL = "/api/v1/payouts/settings/"
# Computed here, not read from the code: 60 % of every sale is the performer's.
SHARE = 60


def earn(performer, buyer, gross_cents: int) -> int:
    """Tips worth ``gross_cents`` (10 cents a token), released from their
    hold; returns the performer's share."""
    tokens = gross_cents // 10
    fund(buyer, tokens)
    tip(buyer, performer, tokens)
    services.release_due_earnings(now=timezone.now() + datetime.timedelta(days=30))
    return gross_cents * SHARE // 100


def counts():
    return (
        PayoutSettings.objects.count(),
        list(PayoutSettings.objects.values_list("method", "minimum_cents", "schedule")),
        Payout.objects.count(),
        Transfer.objects.count(),
        AuditEvent.objects.filter(action__startswith="billing.").count(),
    )


@override_settings(PAYOUT_MINIMUM_CENTS=2000, PAYOUT_MINIMUM_MAX_CENTS=50000, PAYOUT_METHODS=["bank_transfer", "paxum"])
def test_settings_api_reads_defaults_then_patches_within_limits(client, performer):
    client.force_login(performer.user)
    body = client.get(URL).json()
    assert body == {
        "method": "bank_transfer",
        "minimum_cents": 2000,
        "schedule": "manual",
        "methods": ["bank_transfer", "paxum"],
    }
    ok = client.patch(URL, {"schedule": "weekly", "minimum_cents": 7500}, content_type="application/json")
    assert ok.status_code == 200, ok.content
    assert ok.json()["schedule"] == "weekly" and ok.json()["minimum_cents"] == 7500
    saved = PayoutSettings.objects.get(performer=performer)
    assert (saved.method, saved.minimum_cents, saved.schedule) == ("bank_transfer", 7500, "weekly")
    assert AuditEvent.objects.filter(action="billing.payout_settings_changed").count() == 1
    ok = client.patch(URL, {"method": "paxum"}, content_type="application/json")
    assert ok.json()["method"] == "paxum" and ok.json()["minimum_cents"] == 7500


@override_settings(PAYOUT_MINIMUM_CENTS=2000, PAYOUT_MINIMUM_MAX_CENTS=50000, PAYOUT_METHODS=["bank_transfer", "paxum"])
@pytest.mark.parametrize(
    "patch, code",
    [
        ({"minimum_cents": 1999}, "bad_minimum"),
        ({"minimum_cents": 50001}, "bad_minimum"),
        ({"minimum_cents": 0}, "bad_minimum"),
        ({"method": "crypto"}, "bad_method"),
        ({"schedule": "daily"}, "bad_schedule"),
        ({"minimum_cents": "lots"}, None),
    ],
)
def test_settings_outside_the_limits_are_refused_and_nothing_changes(client, performer, patch, code):
    client.force_login(performer.user)
    client.patch(URL, {"schedule": "monthly", "minimum_cents": 3000}, content_type="application/json")
    before = counts()
    response = client.patch(URL, patch, content_type="application/json")
    assert response.status_code == 400, response.content
    if code:
        assert response.json()["error"]["code"] == code
    assert counts() == before


@override_settings(PAYOUT_MINIMUM_CENTS=2000, PAYOUT_MINIMUM_MAX_CENTS=50000)
def test_limits_are_inclusive(client, performer):
    client.force_login(performer.user)
    for cents in (2000, 50000):
        response = client.patch(URL, {"minimum_cents": cents}, content_type="application/json")
        assert response.status_code == 200 and response.json()["minimum_cents"] == cents


def test_strangers_cannot_read_or_change_payout_settings(client, performer, viewer):
    PayoutSettings.objects.create(performer=performer, method="paxum", minimum_cents=9000, schedule="weekly")
    before = counts()
    client.force_login(viewer)
    assert client.get(URL).status_code == 403
    refused = client.patch(URL, {"schedule": "manual"}, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_a_performer"
    client.logout()
    assert client.patch(URL, {"schedule": "manual"}, content_type="application/json").status_code in (401, 403)
    assert counts() == before


@override_settings(PAYOUT_MINIMUM_CENTS=1000)
def test_weekly_schedule_pays_the_available_balance_once_per_week(performer, viewer):
    PayoutSettings.objects.create(performer=performer, method="paxum", minimum_cents=2500, schedule="weekly")
    monday = datetime.datetime(2026, 11, 30, 9, tzinfo=datetime.UTC)  # ISO week 49
    share = earn(performer, viewer, 2000)  # 1,200 cents: under the performer's minimum
    assert services.request_scheduled_payouts(now=monday) == 0
    assert not Payout.objects.exists()
    share += earn(performer, viewer, 3000)  # now 3,000 cents
    assert ledger.performer_balances(performer)[AVAILABLE] == share == 3000
    assert services.request_scheduled_payouts(now=monday + datetime.timedelta(hours=1)) == 1
    payout = Payout.objects.get()
    assert (payout.amount_cents, payout.period, payout.method) == (3000, "2026-W49", "paxum")
    balances = ledger.performer_balances(performer)
    assert balances[AVAILABLE] == 0 and balances[IN_FLIGHT] == 3000
    # More earnings the same week: no second payout until next week.
    earn(performer, viewer, 5000)
    assert services.request_scheduled_payouts(now=monday + datetime.timedelta(days=6, hours=14)) == 0
    assert services.request_scheduled_payouts(now=monday + datetime.timedelta(days=7)) == 1
    assert sorted(Payout.objects.values_list("period", "amount_cents")) == [("2026-W49", 3000), ("2026-W50", 3000)]


def test_monthly_schedule_and_manual_schedule(performer, viewer):
    PayoutSettings.objects.create(performer=performer, method="check", minimum_cents=5000, schedule="monthly")
    manual = PerformerFactory(user=UserFactory(username="manualpay"))
    enable_totp(manual.user)
    PayoutSettings.objects.create(performer=manual, method="check", minimum_cents=5000, schedule="manual")
    earn(performer, viewer, 10000)
    earn(manual, viewer, 10000)
    day = datetime.datetime(2026, 12, 3, tzinfo=datetime.UTC)
    assert services.request_scheduled_payouts(now=day) == 1
    assert services.request_scheduled_payouts(now=day + datetime.timedelta(days=20)) == 0
    assert list(Payout.objects.values_list("performer", "period")) == [(performer.pk, "2026-12")]


def test_a_period_is_paid_once_even_if_the_check_is_raced(performer, viewer):
    """The database refuses a second payout for the same period (two workers)."""
    PayoutSettings.objects.create(performer=performer, method="paxum", minimum_cents=5000, schedule="weekly")
    earn(performer, viewer, 20000)
    services.request_scheduled_payouts(now=datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC))
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Payout.objects.create(performer=performer, amount_cents=100, period="2026-W49")


def test_unverified_or_no_2fa_performers_get_no_scheduled_payout(performer, viewer):
    """The payout rule (verified, not suspended, 2FA) is the same for scheduled payouts."""
    PayoutSettings.objects.create(performer=performer, method="paxum", minimum_cents=5000, schedule="weekly")
    earn(performer, viewer, 20000)
    performer.verification_status = "pending"
    performer.save(update_fields=["verification_status"])
    transfers = Transfer.objects.count()
    assert services.request_scheduled_payouts() == 0
    assert not Payout.objects.exists() and Transfer.objects.count() == transfers
    performer.verification_status = "verified"
    performer.save(update_fields=["verification_status"])
    assert services.request_scheduled_payouts() == 1


def test_manual_request_uses_the_performer_method(client, performer, viewer):
    PayoutSettings.objects.create(performer=performer, method="check", minimum_cents=5000, schedule="manual")
    earn(performer, viewer, 20000)
    payout = services.request_payout(user=performer.user, amount_cents=6000)
    assert (payout.method, payout.period) == ("check", "")

"""Earnings analytics: private shows are counted in minutes and tokens, not only money."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from marquee.earnings import selectors
from marquee.earnings.models import EarningsDay
from marquee.earnings.tests.test_earnings import tip
from marquee.privates import services
from marquee.privates.models import PrivateShow
from marquee.privates.tests.conftest import fund
from marquee.shows.models import Show
from tests.factories import ShowFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_minutes(settings, performer, viewer):
    """A private of 4 periods (ended by the payer after 100 s, minimum 3) and a
    spy of 3 periods on it, with 30-second periods; a tip beside them."""
    settings.PRIVATE_BILLING_SECONDS = 30
    settings.PERFORMER_SHARE_PERCENT = 60
    settings.TOKEN_VALUE_CENTS = 10
    t0 = timezone.now() - datetime.timedelta(minutes=10)
    ShowFactory(performer=performer, status=Show.Status.LIVE, started_at=t0, scheduled_start=None)
    services.update_room_settings(
        actor=performer.user,
        performer=performer,
        privates_enabled=True,
        rate_tokens=10,
        minimum_minutes=3,
        spies_enabled=True,
        spy_rate_tokens=4,
    )
    spy = UserFactory(username="spy")
    fund(viewer, 500)
    fund(spy, 500)
    at = lambda s: t0 + datetime.timedelta(seconds=s)  # noqa: E731
    session = services.request_private(user=viewer, performer=performer, now=at(1))
    services.accept(actor=performer.user, session=session, now=at(2))
    services.join_spy(user=spy, performer=performer, now=at(37))
    services.bill_due_periods(now=at(70))
    services.end_private(actor=viewer, session=session, now=at(102))
    tip(performer, viewer, 25, timezone.now(), "tip-beside-the-private")
    return PrivateShow.objects.all()


def test_private_source_counts_minutes_and_tokens(private_minutes):
    # Expected from the sessions themselves (not the ledger): periods and what each costs.
    periods = sum(s.periods_charged for s in private_minutes)
    tokens = sum(s.periods_charged * s.rate_tokens for s in private_minutes)
    assert periods == 4 + 3  # payer: ⌊100/30⌋+1; spy: ⌊65/30⌋+1
    assert tokens == 4 * 10 + 3 * 4
    totals = selectors.earnings(private_minutes[0].performer).totals["private"]
    assert (totals["periods"], totals["minutes"], totals["tokens"]) == (periods, periods * 30 / 60, tokens)
    assert totals["count"] == periods
    assert "minutes" not in selectors.earnings(private_minutes[0].performer).totals["tips"]


def test_private_minutes_on_the_page_and_api(client, performer, private_minutes):
    api = APIClient()
    api.force_authenticate(performer.user)
    data = api.get("/api/v1/dashboard/earnings/", {"by": "month"}).json()
    private = data["by_source"]["private"]
    assert (private["minutes"], private["tokens"], private["periods"]) == (3.5, 52, 7)
    client.force_login(performer.user)
    body = client.get(reverse("dashboard_earnings")).content.decode()
    assert "3.5 min · 52 tokens" in body


def test_closed_days_keep_private_minutes_and_tokens_in_the_rollup(private_minutes):
    """Once the private's day is closed and rolled up, the month view reads its
    periods and tokens from the roll-up, not from every period's ledger
    entries (a 12-month window held ~20,000 of them in bench/earnings)."""
    performer = private_minutes[0].performer
    later = timezone.now() + datetime.timedelta(days=2)
    with mock.patch("django.utils.timezone.now", lambda: later):
        first = selectors.earnings(performer, "month").totals["private"]
        assert EarningsDay.objects.filter(performer=performer).exists()
        with CaptureQueriesContext(connection) as captured:
            again = selectors.earnings(performer, "month").totals["private"]
    assert (first["periods"], first["minutes"], first["tokens"]) == (7, 3.5, 52)
    assert again == first
    assert not [q["sql"] for q in captured.captured_queries if '"ledger_entry"' in q["sql"]]

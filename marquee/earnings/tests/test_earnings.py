"""Earnings figures checked against ledger transfers made in the test."""

from __future__ import annotations

import csv
import datetime
import io
import types
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from marquee.earnings import selectors
from marquee.earnings.models import EarningsDay
from marquee.ledger.models import AccountKind, Transfer
from marquee.ledger.services import (
    Movement,
    performer_account,
    platform_account,
    post_transfer,
    provider_account,
    reverse_transfer,
    wallet_account,
)
from marquee.shows.models import Show
from tests.factories import PerformerFactory, UserFactory
from tests.support.billing import fund
from tests.support.billing import tip as send_tip
from tests.support.compliance import approve_age

SHARE = 0.6


def _at(when):
    """Post ledger transfers as if at ``when`` (the ledger stamps created_at itself)."""
    fake = types.SimpleNamespace(now=lambda: when)
    return mock.patch("marquee.ledger.services.timezone", fake)


def sale(performer, user, kind, gross, when, key, hold_days=7):
    share = int(gross * SHARE)
    with _at(when):
        transfer, _ = post_transfer(
            kind=kind,
            idempotency_key=key,
            user=user,
            performer=performer,
            movements=[
                Movement(provider_account("sandbox"), -gross),
                Movement(performer_account(performer, AccountKind.PERFORMER_PENDING), share),
                Movement(platform_account(AccountKind.PLATFORM_FEES), gross - share),
            ],
            gross_cents=gross,
            performer_cents=share,
            available_at=when + datetime.timedelta(days=hold_days),
        )
    return transfer


def tip(performer, user, tokens, when, key):
    with _at(when):
        supply = platform_account(AccountKind.TOKEN_SUPPLY)
        post_transfer(
            kind="grant",
            idempotency_key=f"grant-{key}",
            user=user,
            movements=[Movement(supply, -tokens), Movement(wallet_account(user), tokens)],
        )
        gross, share = tokens * 10, int(tokens * 10 * SHARE)
        transfer, _ = post_transfer(
            kind="tip",
            idempotency_key=key,
            user=user,
            performer=performer,
            movements=[
                Movement(wallet_account(user), -tokens),
                Movement(supply, tokens),
                Movement(platform_account(AccountKind.TOKEN_FLOAT), -gross),
                Movement(performer_account(performer, AccountKind.PERFORMER_PENDING), share),
                Movement(platform_account(AccountKind.PLATFORM_FEES), gross - share),
            ],
            gross_cents=gross,
            performer_cents=share,
            available_at=when + datetime.timedelta(days=7),
        )
    return transfer


@pytest.fixture
def activity(performer):
    """A week of ledger activity; returns the expected figures, computed here from what was posted."""
    now = timezone.now()
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    posted = [
        ("tips", tip(performer, alice, 100, now, "t1")),
        ("tips", tip(performer, bob, 30, now - datetime.timedelta(days=1), "t2")),
        ("tickets", sale(performer, bob, "ticket", 799, now - datetime.timedelta(days=3), "k1")),
        ("subscriptions", sale(performer, alice, "subscription", 999, now - datetime.timedelta(days=10), "s1")),
        ("content", sale(performer, alice, "content", 450, now - datetime.timedelta(days=2), "c1")),
        ("tickets", sale(performer, alice, "ticket", 1200, now - datetime.timedelta(days=1), "k2")),
    ]
    refunded = posted[5][1]
    with _at(now):
        reverse_transfer(original=refunded, kind="refund", idempotency_key="r1")
    expected = {s: {"gross": 0, "net": 0, "count": 0} for s in selectors.SOURCES}
    for source, transfer in posted:
        expected[source]["gross"] += transfer.gross_cents
        expected[source]["net"] += transfer.performer_cents
        expected[source]["count"] += 1
    # The refund (today) takes the refunded ticket back out.
    expected["tickets"]["gross"] -= 1200
    expected["tickets"]["net"] -= int(1200 * SHARE)
    return {"now": now, "expected": expected, "alice": alice, "bob": bob, "refunded": refunded}


def test_totals_by_source_match_the_ledger(performer, activity):
    result = selectors.earnings(performer, "day")
    for source, want in activity["expected"].items():
        got = result.totals[source]
        assert (got["gross"], got["net"], got["count"]) == (want["gross"], want["net"], want["count"]), source
        assert got["fee"] == want["gross"] - want["net"]
    assert result.gross == 1000 + 300 + 799 + 999 + 450
    assert result.net == 600 + 180 + 479 + 599 + 270
    assert result.fee == result.gross - result.net


def test_daily_buckets_and_cached_closed_days(performer, activity):
    now = activity["now"]
    first = selectors.earnings(performer, "day")
    by_start = {p["start"]: p["sources"] for p in first.periods}
    day = now.date()
    assert by_start[day]["tips"] == [1000, 600, 1]
    assert by_start[day]["tickets"] == [-1200, -720, 0]  # the refund, on the day it happened
    assert by_start[day - datetime.timedelta(days=1)]["tickets"] == [1200, 720, 1]
    assert by_start[day - datetime.timedelta(days=3)]["tickets"] == [799, 479, 1]
    # Closed days were cached; today was not (it is still changing).
    cached_days = set(EarningsDay.objects.filter(performer=performer).values_list("day", flat=True))
    assert day - datetime.timedelta(days=3) in cached_days and day not in cached_days
    # A second read (from the cache) gives the same figures.
    again = selectors.earnings(performer, "day")
    assert [p["sources"] for p in again.periods] == [p["sources"] for p in first.periods]


def test_week_and_month_views_sum_the_same(performer, activity):
    day_view = selectors.earnings(performer, "day")
    for granularity in ("week", "month"):
        other = selectors.earnings(performer, granularity)
        assert other.net == day_view.net and other.gross == day_view.gross


def test_balances_and_release_dates(performer, activity):
    balances = selectors.balances(performer)
    pending = performer_account(performer, AccountKind.PERFORMER_PENDING)
    pending.refresh_from_db()
    assert balances["pending"] == pending.balance == 600 + 180 + 479 + 599 + 270
    assert balances["available"] == 0
    # Every not-yet-released, not-refunded sale appears on its release date.
    now = activity["now"]
    want = {
        (now + datetime.timedelta(days=7)).date(): 600,
        (now + datetime.timedelta(days=6)).date(): 180,
        (now + datetime.timedelta(days=4)).date(): 479,
        (now + datetime.timedelta(days=5)).date(): 270,
    }
    got = {r["date"]: r["net"] for r in balances["releases"]}
    assert got == want


def test_top_supporters(performer, activity):
    rows = selectors.top_supporters(performer)
    assert [(r["username"], r["gross"]) for r in rows] == [("alice", 1000 + 999 + 450), ("bob", 300 + 799)]


def test_show_summary_counts_tips_during_the_show(performer, activity):
    now = activity["now"]
    Show.objects.create(
        performer=performer,
        title="Noon show",
        status=Show.Status.ENDED,
        peak_viewers=42,
        started_at=now - datetime.timedelta(minutes=30),
        ended_at=now + datetime.timedelta(minutes=45),
    )
    (summary,) = selectors.show_summaries(performer)
    assert summary["duration_minutes"] == 75 and summary["peak_viewers"] == 42
    assert (summary["tips_gross"], summary["tips_net"], summary["tips_count"]) == (1000, 600, 1)


def test_page_csv_and_api(client, performer, activity):
    client.force_login(performer.user)
    page = client.get(reverse("dashboard_earnings"))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="earnings-series"' in body and "$21.28" in body  # net 2128 cents
    response = client.get(reverse("dashboard_earnings_csv"), {"by": "week"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert sum(int(r["net_cents"]) for r in rows) == 2128
    assert sum(int(r["gross_cents"]) for r in rows if r["source"] == "tips") == 1300
    assert all(int(r["platform_fee_cents"]) == int(r["gross_cents"]) - int(r["net_cents"]) for r in rows)
    api = APIClient()
    api.force_authenticate(performer.user)
    data = api.get("/api/v1/dashboard/earnings/", {"by": "month"}).json()
    assert data["net_cents"] == 2128 and data["by_source"]["content"]["net"] == 270
    assert data["top_supporters"][0]["username"] == "alice"
    assert api.get("/api/v1/dashboard/earnings/", {"by": "year"}).status_code == 400


def test_strangers_cannot_read_earnings(client, performer, activity, outsider):
    transfers_before = Transfer.objects.count()
    client.force_login(outsider)
    assert client.get(reverse("dashboard_earnings")).status_code == 403
    assert client.get(reverse("dashboard_earnings_csv")).status_code == 403
    api = APIClient()
    api.force_authenticate(outsider)
    assert api.get("/api/v1/dashboard/earnings/").status_code == 403
    # Another performer sees only their own (empty) earnings.
    other = PerformerFactory()
    api.force_authenticate(other.user)
    assert api.get("/api/v1/dashboard/earnings/").json()["net_cents"] == 0
    client.force_login(other.user)
    assert "alice" not in client.get(reverse("dashboard_earnings")).content.decode()
    assert not EarningsDay.objects.filter(performer=other).exclude(totals={}).exists()
    assert Transfer.objects.count() == transfers_before


def test_tip_goal_progress_in_the_room(client, performer, viewer):
    performer.tip_goal_tokens, performer.tip_goal_label = 200, "New lamp"
    performer.save(update_fields=["tip_goal_tokens", "tip_goal_label"])
    approve_age(viewer)
    fund(viewer, 100)
    send_tip(viewer, performer, 40)  # before the show: not this show's goal
    Show.objects.create(performer=performer, title="Live", status=Show.Status.LIVE, started_at=timezone.now())
    send_tip(viewer, performer, 50)
    progress = selectors.tip_goal_progress(performer)
    assert (progress["tokens"], progress["percent"], progress["reached"]) == (50, 25, False)
    client.force_login(viewer)
    body = client.get(reverse("room", args=[performer.username])).content.decode()
    assert 'value="50"' in body and "New lamp" in body


def test_top_supporters_include_someone_who_only_paid_today(performer, activity):
    selectors.top_supporters(performer)  # summarizes the closed days (and keeps their top list)
    carol = UserFactory(username="carol")
    sale(performer, carol, "content", 4000, timezone.now(), "carol-today")
    tip(performer, activity["bob"], 200, timezone.now(), "bob-today")
    rows = selectors.top_supporters(performer)
    assert [(r["username"], r["gross"]) for r in rows] == [
        ("carol", 4000),
        ("bob", 300 + 799 + 2000),
        ("alice", 1000 + 999 + 450),
    ]

"""One prices module: room settings, schedule, content sets, checkout and tips
all validate against ``marquee.billing.prices`` and nothing else."""

from __future__ import annotations

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from marquee.billing import prices, services
from marquee.billing.models import Purchase
from marquee.billing.tests.conftest import fund, tip
from marquee.content import services as content
from marquee.content.models import MediaSet
from marquee.lib.geo import UNKNOWN
from marquee.performers import services as dashboard
from marquee.schedule import recurrence as schedule_recurrence
from marquee.schedule import services as schedule_services
from marquee.shows.models import Show
from tests.factories import ShowFactory

pytestmark = pytest.mark.django_db


def room_settings(performer, **prices_cents):
    values = {
        "default_ticket_price_cents": 700,
        "subscription_price_cents": 700,
        "private_show_price_cents": 700,
        **prices_cents,
    }
    return dashboard.update_room_settings(
        performer=performer,
        default_show_kind="public",
        room_topic="",
        tip_goal_tokens=0,
        tip_goal_label="",
        timezone_name="UTC",
        **values,
    )


def schedule_premium(performer, price):
    return schedule_services.schedule_show(
        performer=performer,
        title="Concert",
        kind="premium",
        starts_at=timezone.now() + datetime.timedelta(days=3),
        expected_minutes=60,
        price_cents=price,
    )


def ticket_checkout(user, show):
    return services.start_checkout(
        user=user, location=UNKNOWN, product="ticket", show=show, success_url_for=lambda p: "http://t/"
    )


@override_settings(PRICE_MIN_CENTS=500, PRICE_MAX_CENTS=900)
def test_every_cash_price_surface_uses_the_same_limits(viewer, performer):
    for field in ("default_ticket_price_cents", "subscription_price_cents", "private_show_price_cents"):
        for price in (499, 901):
            with pytest.raises(dashboard.SettingsError) as refused:
                room_settings(performer, **{field: price})
            assert refused.value.code == "price_out_of_range" and "$5.00" in refused.value.message
    assert room_settings(performer, subscription_price_cents=900).subscription_price_cents == 900
    with pytest.raises(schedule_recurrence.ScheduleError) as refused:
        schedule_premium(performer, 901)
    assert refused.value.code == "bad_price" and "$9.00" in refused.value.message
    assert schedule_premium(performer, 500).price_cents == 500
    pricey = ShowFactory(performer=performer, kind="premium", price_cents=901, status="live")
    with pytest.raises(services.BillingError) as refused:
        ticket_checkout(viewer, pricey)
    assert refused.value.code == "price_out_of_range" and refused.value.status == 409
    assert not Purchase.objects.exists()
    fine = ShowFactory(performer=performer, kind="premium", price_cents=900, status="scheduled")
    purchase, _ = ticket_checkout(viewer, fine)
    assert purchase.amount_cents == 900


@override_settings(CONTENT_SET_MAX_TOKENS=50, TIP_MAX_TOKENS=20)
def test_token_limits_for_sets_and_tips(viewer, performer, ledger_clean):
    with pytest.raises(content.ContentError) as refused:
        content.create_set(performer=performer, title="Too dear", free_for_subscribers=False, price_tokens=51)
    assert refused.value.code == "bad_price" and "50 tokens" in refused.value.message
    assert not MediaSet.objects.exists()
    assert content.create_set(performer=performer, title="Fine", price_tokens=50).price_tokens == 50
    fund(viewer, 100)
    with pytest.raises(services.BillingError) as refused:
        tip(viewer, performer, 21)
    assert refused.value.code == "invalid_amount"
    assert tip(viewer, performer, 20).tokens == 20


def test_every_surface_asks_the_prices_module(viewer, performer, monkeypatch):
    """Refuse everything in ``prices``: each surface must refuse too (none keeps a copy)."""

    def refuse(*args, **kwargs):
        raise prices.PriceError("price_out_of_range", "refused by the prices module", 409)

    for name in ("check_price_cents", "check_set_price_tokens", "check_tip_tokens", "check_tip_menu_tokens"):
        monkeypatch.setattr(prices, name, refuse)
    with pytest.raises(dashboard.SettingsError, match="refused by the prices module"):
        room_settings(performer)
    with pytest.raises(dashboard.SettingsError, match="refused by the prices module"):
        dashboard.add_tip_menu_item(performer=performer, label="Song", tokens=10)
    with pytest.raises(schedule_recurrence.ScheduleError, match="refused by the prices module"):
        schedule_premium(performer, 700)
    with pytest.raises(content.ContentError, match="refused by the prices module"):
        content.create_set(performer=performer, title="Set", price_tokens=10)
    with pytest.raises(services.BillingError, match="refused by the prices module"):
        ticket_checkout(viewer, ShowFactory(performer=performer, kind="premium", price_cents=700, status="live"))
    with pytest.raises(services.BillingError, match="refused by the prices module"):
        tip(viewer, performer, 5)
    assert not Purchase.objects.exists() and not Show.objects.filter(title="Concert").exists()


def test_prices_refuse_non_integers():
    for bad in (True, 5.0, "700", None):
        with pytest.raises(prices.PriceError):
            prices.check_price_cents(bad)
    assert prices.split(999) == (599, 400)

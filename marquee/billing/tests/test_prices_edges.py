"""Edges of every price/limit check in ``marquee.billing.prices`` (mutation
testing, issue 11): each bound is inclusive, the value just outside it is
refused with its code, message and status, and booleans/floats/strings are
never amounts.  Pure functions: no database."""

from __future__ import annotations

import pytest
from django.test import override_settings

from marquee.billing import prices
from marquee.lib.errors import DomainError

NOT_INTS = (True, False, 5.0, "5", None)


def refused(check, value, **kwargs):
    with pytest.raises(prices.PriceError) as caught:
        check(value, **kwargs)
    assert isinstance(caught.value, DomainError)
    return caught.value


@override_settings(PRICE_MIN_CENTS=500, PRICE_MAX_CENTS=900)
def test_cash_price_bounds_are_inclusive_and_the_message_names_them():
    assert prices.check_price_cents(500) == 500
    assert prices.check_price_cents(900) == 900
    for value in (499, 901, *NOT_INTS):
        error = refused(prices.check_price_cents, value)
        assert (error.code, error.status) == ("price_out_of_range", 409)
        assert error.message == "Prices must be between $5.00 and $9.00."
    assert refused(prices.check_price_cents, 1, label="Tickets").message.startswith("Tickets must be")


@override_settings(CONTENT_SET_MAX_TOKENS=50)
def test_content_set_price_zero_means_subscribers_only_and_the_max_is_allowed():
    assert prices.check_set_price_tokens(0) == 0
    assert prices.check_set_price_tokens(50) == 50
    for value in (-1, 51, *NOT_INTS):
        error = refused(prices.check_set_price_tokens, value)
        assert (error.code, error.status, error.message) == (
            "bad_price",
            400,
            "The price must be between 0 and 50 tokens.",
        )


@override_settings(TIP_MAX_TOKENS=30)
def test_tip_is_one_to_the_max():
    assert prices.check_tip_tokens(1) == 1
    assert prices.check_tip_tokens(30) == 30
    for value in (0, 31, *NOT_INTS):
        error = refused(prices.check_tip_tokens, value)
        assert (error.code, error.status, error.message) == ("invalid_amount", 400, "A tip is 1 to 30 tokens.")


@override_settings(TIP_MENU_MAX_TOKENS=40)
def test_tip_menu_item_is_one_to_the_max():
    assert prices.check_tip_menu_tokens(1) == 1
    assert prices.check_tip_menu_tokens(40) == 40
    for value in (0, 41, *NOT_INTS):
        error = refused(prices.check_tip_menu_tokens, value)
        assert (error.code, error.status, error.message) == ("bad_tokens", 400, "Tokens must be between 1 and 40.")


@override_settings(TIP_MENU_MAX_TOKENS=40)
def test_tip_goal_is_zero_to_ten_menu_maxima():
    assert prices.check_tip_goal_tokens(0) == 0
    assert prices.check_tip_goal_tokens(400) == 400
    for value in (-1, 401, *NOT_INTS):
        error = refused(prices.check_tip_goal_tokens, value)
        assert (error.code, error.status, error.message) == ("bad_goal", 400, "The tip goal is out of range.")


@override_settings(PAYOUT_MINIMUM_CENTS=5000)
def test_payout_minimum_is_inclusive():
    assert prices.check_payout_cents(5000) == 5000
    assert prices.check_payout_cents(10**9) == 10**9
    for value in (4999, *NOT_INTS):
        error = refused(prices.check_payout_cents, value)
        assert (error.code, error.status, error.message) == ("below_minimum", 400, "The minimum payout is 50.00.")


@override_settings(TOKEN_VALUE_CENTS=7, PERFORMER_SHARE_PERCENT=60)
def test_token_value_and_split_round_down_for_the_performer_and_add_up():
    assert prices.token_value_cents(3) == 21
    assert prices.split(1000) == (600, 400)
    # 60% of 999 is 599.4: the performer gets the floor, the platform the rest.
    assert prices.split(999) == (599, 400)
    assert prices.split(1) == (0, 1)

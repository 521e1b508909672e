"""Prices and limits: the one place every form, API and service validates
against (room settings, schedule, content sets, checkout, tips).

A leaf module (settings, ``lib`` and ``billing.errors`` only) so that any
layer may ask it,
including the performer dashboard below billing.  Each check raises
``PriceError`` (a ``DomainError``); callers with their own error type may
re-raise its code and message, never re-state the limits."""

from __future__ import annotations

from django.conf import settings

from marquee.billing.errors import BillingError


class PriceError(BillingError):
    """A price or amount outside the platform's limits (a ``DomainError``)."""


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_price_cents(cents, *, label: str = "Prices") -> int:
    """Cash prices performers set (tickets, privates, subscriptions) and what
    checkout charges: a price shown is a price that can be charged."""
    low, high = settings.PRICE_MIN_CENTS, settings.PRICE_MAX_CENTS
    if not _is_int(cents) or not low <= cents <= high:
        raise PriceError("price_out_of_range", f"{label} must be between ${low / 100:.2f} and ${high / 100:.2f}.", 409)
    return cents


def check_set_price_tokens(tokens) -> int:
    """A content set's token price; 0 means not for sale (subscribers only)."""
    high = settings.CONTENT_SET_MAX_TOKENS
    if not _is_int(tokens) or not 0 <= tokens <= high:
        raise PriceError("bad_price", f"The price must be between 0 and {high} tokens.", 400)
    return tokens


def check_tip_tokens(tokens) -> int:
    high = settings.TIP_MAX_TOKENS
    if not _is_int(tokens) or not 1 <= tokens <= high:
        raise PriceError("invalid_amount", f"A tip is 1 to {high} tokens.", 400)
    return tokens


def check_tip_menu_tokens(tokens) -> int:
    high = settings.TIP_MENU_MAX_TOKENS
    if not _is_int(tokens) or not 1 <= tokens <= high:
        raise PriceError("bad_tokens", f"Tokens must be between 1 and {high}.", 400)
    return tokens


def check_tip_goal_tokens(tokens) -> int:
    high = settings.TIP_MENU_MAX_TOKENS * 10
    if not _is_int(tokens) or not 0 <= tokens <= high:
        raise PriceError("bad_goal", "The tip goal is out of range.", 400)
    return tokens


def check_payout_cents(cents) -> int:
    low = settings.PAYOUT_MINIMUM_CENTS
    if not _is_int(cents) or cents < low:
        raise PriceError("below_minimum", f"The minimum payout is {low / 100:.2f}.", 400)
    return cents


def token_value_cents(tokens: int) -> int:
    """What ``tokens`` are worth in cents when they become performer earnings."""
    return tokens * settings.TOKEN_VALUE_CENTS


def split(gross_cents: int) -> tuple[int, int]:
    """(performer share, platform fee); they always add up to the gross."""
    share = gross_cents * settings.PERFORMER_SHARE_PERCENT // 100
    return share, gross_cents - share

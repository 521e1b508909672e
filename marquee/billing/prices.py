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


PAYOUT_METHOD_LABELS = {"bank_transfer": "Bank transfer", "paxum": "Paxum", "check": "Cheque by post"}
PAYOUT_SCHEDULES = ("manual", "weekly", "monthly")


def payout_methods() -> list[tuple[str, str]]:
    """(id, label) of the methods this platform pays by (``PAYOUT_METHODS``)."""
    return [(m, PAYOUT_METHOD_LABELS.get(m, m.replace("_", " ").capitalize())) for m in settings.PAYOUT_METHODS]


def default_payout_minimum_cents() -> int:
    return max(settings.PAYOUT_MINIMUM_CENTS, 1)


def check_payout_settings(*, method, minimum_cents, schedule) -> None:
    """A performer's payout settings: a method the platform pays by, a minimum
    between the platform's payout minimum and ``PAYOUT_MINIMUM_MAX_CENTS``, a
    known schedule."""
    if not isinstance(method, str) or method not in settings.PAYOUT_METHODS:
        raise PriceError("bad_method", "Choose one of the payout methods offered.", 400)
    low, high = default_payout_minimum_cents(), settings.PAYOUT_MINIMUM_MAX_CENTS
    if not _is_int(minimum_cents) or not low <= minimum_cents <= high:
        raise PriceError(
            "bad_minimum", f"The payout minimum must be between ${low / 100:,.2f} and ${high / 100:,.2f}.", 400
        )
    if schedule not in PAYOUT_SCHEDULES:
        raise PriceError("bad_schedule", "The schedule is manual, weekly or monthly.", 400)


# --- private, spy and group shows (tokens per billing period) -----------------------

PRIVATE_SETTING_FIELDS = {
    "privates_enabled": bool,
    "rate_tokens": int,
    "minimum_minutes": int,
    "exclusive_enabled": bool,
    "exclusive_rate_tokens": int,
    "spies_enabled": bool,
    "spy_rate_tokens": int,
    "group_shows_enabled": bool,
    "cam2cam_enabled": bool,
    "recordings_enabled": bool,
}


def check_private_rate_tokens(tokens) -> int:
    low, high = settings.PRIVATE_RATE_MIN_TOKENS, settings.PRIVATE_RATE_MAX_TOKENS
    if not _is_int(tokens) or not low <= tokens <= high:
        raise PriceError("bad_price", f"Rates are {low} to {high} tokens per minute.", 400)
    return tokens


def check_private_settings(values: dict) -> dict:
    """A room's private-show settings (any subset of ``PRIVATE_SETTING_FIELDS``)
    against the platform's limits; returns the values."""
    unknown = set(values) - set(PRIVATE_SETTING_FIELDS)
    if unknown:
        raise PriceError("bad_field", f"Unknown setting: {sorted(unknown)[0]}.", 400)
    for name in ("rate_tokens", "exclusive_rate_tokens", "spy_rate_tokens"):
        if name in values:
            check_private_rate_tokens(values[name])
    top = settings.PRIVATE_MINIMUM_MINUTES_MAX
    if "minimum_minutes" in values and not (
        _is_int(values["minimum_minutes"]) and 1 <= values["minimum_minutes"] <= top
    ):
        raise PriceError("bad_minimum", f"The minimum is 1 to {top} minutes.", 400)
    for name, kind in PRIVATE_SETTING_FIELDS.items():
        if kind is bool and name in values and not isinstance(values[name], bool):
            raise PriceError("bad_field", f"{name} is true or false.", 400)
    return values


def check_group_show(*, rate_tokens, goal_viewers, window_minutes) -> None:
    check_private_rate_tokens(rate_tokens)
    goal_top, window_top = settings.GROUP_SHOW_MAX_GOAL, settings.GROUP_SHOW_MAX_WINDOW_MINUTES
    if not _is_int(goal_viewers) or not 2 <= goal_viewers <= goal_top:
        raise PriceError("bad_goal", f"The goal is 2 to {goal_top} viewers.", 400)
    if not _is_int(window_minutes) or not 1 <= window_minutes <= window_top:
        raise PriceError("bad_window", f"The join window is 1 to {window_top} minutes.", 400)


def token_value_cents(tokens: int) -> int:
    """What ``tokens`` are worth in cents when they become performer earnings."""
    return tokens * settings.TOKEN_VALUE_CENTS


def split(gross_cents: int) -> tuple[int, int]:
    """(performer share, platform fee); they always add up to the gross."""
    share = gross_cents * settings.PERFORMER_SHARE_PERCENT // 100
    return share, gross_cents - share

"""Edges of ``marquee.access.selectors`` found by mutation testing (issue 11):
a refused decision raised from a surface keeps its message and extra fields,
and prices shown on offers are dollars and zero-padded cents."""

from __future__ import annotations

import pytest

from marquee.access import selectors as access
from marquee.lib.decisions import ALLOW, deny
from marquee.lib.errors import DomainError


def test_require_lets_an_allowed_decision_through():
    assert access.require(ALLOW) is None


def test_require_raises_the_refusal_whole():
    with pytest.raises(access.AccessDenied) as refused:
        access.require(deny("paywall", "Buy a ticket to watch.", 402, price="7.00"))
    error = refused.value
    assert isinstance(error, DomainError)
    assert (error.code, error.message, error.status, error.extra) == (
        "paywall",
        "Buy a ticket to watch.",
        402,
        {"price": "7.00"},
    )
    assert error.as_json() == {"error": {"code": "paywall", "message": "Buy a ticket to watch.", "price": "7.00"}}


@pytest.mark.parametrize(
    ("cents", "shown"), [(1999, "19.99"), (105, "1.05"), (100, "1.00"), (99, "0.99"), (1010000, "10100.00")]
)
def test_format_price(cents, shown):
    assert access.format_price(cents) == shown

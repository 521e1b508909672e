"""Edges of ``marquee.access.selectors`` found by mutation testing (issue 11):
a refused decision raised from a surface keeps its message and extra fields,
and prices shown on offers are dollars and zero-padded cents."""

from __future__ import annotations

import pytest

from marquee.access import selectors as access
from marquee.lib.decisions import ALLOW, deny
from marquee.lib.errors import DomainError
from tests.factories import PerformerFactory, ShowFactory


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


@pytest.mark.django_db
def test_paywall_offer_names_what_unlocks_each_kind_of_show():
    performer = PerformerFactory(subscription_price_cents=1250, private_show_price_cents=3005)
    premium = ShowFactory(performer=performer, kind="premium", price_cents=705)
    assert access.paywall_offer(premium) == {
        "product": "ticket",
        "show_id": premium.pk,
        "price_cents": 705,
        "price_display": "7.05",
        "message": "This stream is premium. Purchase access to watch.",
        # Issue 15: the placeholder names the show, since when, and what the ticket gives.
        "title": premium.title,
        "started_at": premium.scheduled_start.isoformat(),
        "gives": "A ticket lets you watch this whole show, live, until it ends, and chat with the room.",
    }
    subscribers = ShowFactory(performer=performer, kind="subscribers")
    assert access.paywall_offer(subscribers) == {
        "product": "subscription",
        "performer": performer.username,
        "price_cents": 1250,
        "price_display": "12.50",
        "message": "This show is for fan-club members. Subscribe to watch.",
        "title": subscribers.title,
        "started_at": subscribers.scheduled_start.isoformat(),
        "gives": "Fan-club members watch every members-only show and get the member content sets.",
    }
    private = ShowFactory(performer=performer, kind="private")
    assert access.paywall_offer(private) == {
        "product": "private",
        "show_id": private.pk,
        "price_cents": 3005,
        "price_display": "30.05",
        "message": "This is a private show.",
        "title": private.title,
        "started_at": private.scheduled_start.isoformat(),
        "gives": "A private show is just you and the performer.",
    }

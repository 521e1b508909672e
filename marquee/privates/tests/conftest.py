from __future__ import annotations

import datetime
import itertools

import pytest

from marquee.ledger.models import AccountKind
from marquee.ledger.services import Movement, platform_account, post_transfer, wallet_account
from marquee.privates.services import update_room_settings
from marquee.shows.models import Show
from tests.factories import ShowFactory

T0 = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)
_keys = itertools.count()


def at(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


def fund(user, tokens: int) -> None:
    """Tokens into ``user``'s wallet (a grant from the token supply)."""
    post_transfer(
        kind="grant",
        idempotency_key=f"test-fund:{user.pk}:{next(_keys)}",
        movements=[
            Movement(platform_account(AccountKind.TOKEN_SUPPLY), -tokens),
            Movement(wallet_account(user), tokens),
        ],
        user=user,
    )


@pytest.fixture
def room(performer, private_settings):
    """The performer is live and takes privates: 10 tokens/period, minimum 3;
    exclusive 20; spies 4; group shows on."""
    ShowFactory(performer=performer, status=Show.Status.LIVE, started_at=at(-600), scheduled_start=None)
    update_room_settings(
        actor=performer.user,
        performer=performer,
        privates_enabled=True,
        rate_tokens=10,
        minimum_minutes=3,
        exclusive_enabled=True,
        exclusive_rate_tokens=20,
        spies_enabled=True,
        spy_rate_tokens=4,
        group_shows_enabled=True,
    )
    return performer


@pytest.fixture
def private_settings(settings):
    settings.PRIVATE_BILLING_SECONDS = 60
    settings.PRIVATE_REQUEST_EXPIRY_SECONDS = 120
    settings.PRIVATE_STREAM_DROP_GRACE_SECONDS = 30
    settings.PERFORMER_SHARE_PERCENT = 60
    settings.TOKEN_VALUE_CENTS = 10
    return settings

"""Fixtures only; helpers (sandbox events, funding, tips) are in tests/support/billing.py."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.support.billing import SANDBOX_SECRET


@pytest.fixture(autouse=True)
def _money_settings():
    with override_settings(
        SANDBOX_ENABLED=True,
        SANDBOX_WEBHOOK_SECRET=SANDBOX_SECRET,
        PERFORMER_SHARE_PERCENT=60,
        TOKEN_VALUE_CENTS=10,
        EARNINGS_HOLD_DAYS=7,
        PAYOUT_MINIMUM_CENTS=5000,
        SUBSCRIPTION_GRACE_DAYS=3,
        # These tests are about money mechanics; the age-verification gate in
        # front of purchases is tested in marquee/compliance/tests and in
        # test_checkout.py::test_unverified_buyer_is_refused_and_nothing_is_created.
        AGE_VERIFICATION_BEFORE_PURCHASE=False,
    ):
        yield


@pytest.fixture
def ledger_clean(db):
    yield
    call_command("ledger_check")

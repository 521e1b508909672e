"""Fixtures only; the headless-app client and helpers are in tests/support/accounts.py."""

from __future__ import annotations

import pytest

from tests.support.accounts import AppClient


@pytest.fixture
def app_client(client):
    return AppClient(client)

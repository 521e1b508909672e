from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection


@pytest.fixture
def ledger_clean():
    """Asserts after the test that every ledger invariant holds."""
    yield
    call_command("ledger_check")


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (row locks and concurrent connections)"
)

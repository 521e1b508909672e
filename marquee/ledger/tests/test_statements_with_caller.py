"""A caller's statement in the same round trip as the transfer row
(``prepare_transfer(then=...)``) or as the balances (``Posting.apply_then``),
PostgreSQL only: it runs after them, and writes nothing when the key exists
or the debit is refused."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from marquee.ledger.models import AccountKind, Entry, Transfer
from marquee.ledger.services import (
    InsufficientFunds,
    LedgerError,
    Movement,
    platform_account,
    prepare_transfer,
    wallet_account,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# A scratch table stands in for the caller's rows (the tip, the goal counter).
NOTE_SQL = (
    "INSERT INTO ledger_test_note (transfer_id, what) SELECT new_transfer.id, %s FROM new_transfer RETURNING id, what"
)
AFTER_SQL = (
    "INSERT INTO ledger_test_note (transfer_id, what) SELECT %s, %s WHERE (SELECT ok FROM applied_ok) RETURNING what"
)


@pytest.fixture
def notes():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE ledger_test_note (id serial PRIMARY KEY, transfer_id bigint, what text)")
    yield lambda: _notes()


def _notes():
    with connection.cursor() as cursor:
        cursor.execute("SELECT transfer_id, what FROM ledger_test_note ORDER BY id")
        return cursor.fetchall()


def _spend(user, tokens, key, then=None):
    return prepare_transfer(
        kind="tip",
        idempotency_key=key,
        movements=[
            Movement(wallet_account(user), -tokens),
            Movement(platform_account(AccountKind.TOKEN_SUPPLY), tokens),
        ],
        user=user,
        then=then,
    )


def _fund(user, tokens):
    with transaction.atomic():
        prepare_transfer(
            kind="grant",
            idempotency_key=f"fund:{user.pk}",
            movements=[
                Movement(platform_account(AccountKind.TOKEN_SUPPLY), -tokens),
                Movement(wallet_account(user), tokens),
            ],
            user=user,
        ).apply()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statements")
def test_the_callers_row_is_written_with_the_transfer_and_not_for_a_repeated_key(notes):
    user = UserFactory()
    _fund(user, 10)
    with transaction.atomic():
        posting = _spend(user, 3, "k", then=(NOTE_SQL, ["tip"]))
        assert posting.created and posting.then_row[1] == "tip"
        posting.apply()
    with transaction.atomic():
        again = _spend(user, 3, "k", then=(NOTE_SQL, ["tip again"]))
    assert not again.created and again.then_row is None
    assert notes() == [(posting.transfer.pk, "tip")]
    assert Transfer.objects.filter(idempotency_key="k").count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statements")
def test_the_callers_statement_after_the_balances_runs_only_when_they_moved(notes):
    user = UserFactory()
    _fund(user, 5)
    with transaction.atomic():
        posting = _spend(user, 3, "ok")
        assert posting.apply_then(AFTER_SQL, [posting.transfer.pk, "goal"]) == ("goal",)
    assert wallet_account(user).balance == 2
    entries = Entry.objects.count()
    with pytest.raises(InsufficientFunds), transaction.atomic():
        refused = _spend(user, 3, "refused")
        refused.apply_then(AFTER_SQL, [refused.transfer.pk, "must not be written"])
    assert notes() == [(posting.transfer.pk, "goal")]
    assert Entry.objects.count() == entries
    assert wallet_account(user).balance == 2


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the SQLite path")
def test_statements_with_the_callers_are_postgresql_only():
    user = UserFactory()
    _fund(user, 5)
    with pytest.raises(LedgerError), transaction.atomic():
        _spend(user, 1, "then", then=("SELECT 1", []))
    with pytest.raises(LedgerError), transaction.atomic():
        _spend(user, 1, "after").apply_then("SELECT 1", [])

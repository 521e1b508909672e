"""Prepared transfers (balances and entries written last, in one round trip on
PostgreSQL) and the committed-account cache of ``post_transfer``."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from marquee.ledger import selectors
from marquee.ledger.models import Account, AccountKind, Entry, Transfer
from marquee.ledger.services import (
    InsufficientFunds,
    LedgerError,
    Movement,
    forget_accounts,
    performer_earnings,
    platform,
    platform_account,
    post_transfer,
    prepare_transfer,
    wallet,
    wallet_account,
)

pytestmark = pytest.mark.django_db


def fund(user, tokens):
    post_transfer(
        kind="grant",
        idempotency_key=f"fund:{user.pk}:{tokens}",
        movements=[
            Movement(platform_account(AccountKind.TOKEN_SUPPLY), -tokens),
            Movement(wallet_account(user), tokens),
        ],
    )


def tip_movements(user, performer, tokens):
    value = tokens * 10
    return [
        Movement(wallet(user), -tokens),
        Movement(platform(AccountKind.TOKEN_SUPPLY, shard=user.pk), tokens),
        Movement(platform(AccountKind.TOKEN_FLOAT, shard=user.pk), -value),
        Movement(performer_earnings(performer, AccountKind.PERFORMER_PENDING), value - 3),
        Movement(platform(AccountKind.PLATFORM_FEES, shard=user.pk), 3),
    ]


def balances():
    return dict(Account.objects.values_list("code", "balance"))


def test_prepared_transfer_moves_nothing_until_applied(viewer, performer, ledger_clean):
    fund(viewer, 50)
    before = balances()
    with transaction.atomic():
        posting = prepare_transfer(
            kind="tip", idempotency_key="p1", movements=tip_movements(viewer, performer, 7), user=viewer
        )
        assert posting.created
        assert balances() == {**before, **dict.fromkeys(set(balances()) - set(before), 0)}
        assert not Entry.objects.filter(transfer=posting.transfer).exists()
        posting.apply()
    after = balances()
    assert after[f"wallet:{viewer.pk}"] == 43
    assert after[f"performer_pending:{performer.pk}"] == 67
    # Entries in the order of the movements, one per account, summing to the balances' changes.
    entries = list(
        Entry.objects.filter(transfer=posting.transfer).order_by("pk").values_list("account__code", "amount")
    )
    assert [amount for _, amount in entries] == [-7, 7, -70, 67, 3]
    assert entries[0][0] == f"wallet:{viewer.pk}"
    assert all(after[code] - before.get(code, 0) == amount for code, amount in entries)


def test_refused_apply_rolls_back_even_when_caught(viewer, performer, ledger_clean):
    fund(viewer, 5)
    before = balances()
    with transaction.atomic():  # like release_due_earnings: the refusal is caught inside the block
        posting = prepare_transfer(
            kind="tip", idempotency_key="p2", movements=tip_movements(viewer, performer, 6), user=viewer
        )
        with pytest.raises(InsufficientFunds):
            posting.apply()
    assert not Transfer.objects.filter(idempotency_key="p2").exists()
    assert {code: balance for code, balance in balances().items() if code in before} == before
    assert all(balance == 0 for code, balance in balances().items() if code not in before)
    assert selectors.check_invariants().ok


@pytest.mark.django_db(transaction=True)
def test_prepare_outside_a_transaction_is_refused(viewer, performer):
    assert not connection.in_atomic_block
    with pytest.raises(LedgerError):
        prepare_transfer(kind="tip", idempotency_key="p3", movements=tip_movements(viewer, performer, 1))
    assert not Transfer.objects.exists()


def test_committed_accounts_need_no_lookup(viewer, performer, django_capture_on_commit_callbacks, ledger_clean):
    fund(viewer, 20)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            post_transfer(kind="tip", idempotency_key="c1", movements=tip_movements(viewer, performer, 1))
        with CaptureQueriesContext(connection) as queries:
            post_transfer(kind="tip", idempotency_key="c2", movements=tip_movements(viewer, performer, 1))
        looked_up = [q["sql"] for q in queries.captured_queries if 'FROM "ledger_account"' in q["sql"]]
        assert looked_up == []
        assert wallet_account(viewer).balance == 18
    finally:
        forget_accounts()


def test_uncommitted_accounts_are_not_cached(viewer, performer, ledger_clean):
    fund(viewer, 20)
    with transaction.atomic():
        post_transfer(kind="tip", idempotency_key="u1", movements=tip_movements(viewer, performer, 1))
    # The test's transaction never commits: the next posting looks its accounts up again.
    with CaptureQueriesContext(connection) as queries:
        post_transfer(kind="tip", idempotency_key="u2", movements=tip_movements(viewer, performer, 1))
    assert any('FROM "ledger_account"' in q["sql"] for q in queries.captured_queries)

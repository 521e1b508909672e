from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, connections, transaction

from marquee.ledger import selectors
from marquee.ledger.models import Account, AccountKind, Entry, Transfer, Unit
from marquee.ledger.services import (
    InsufficientFunds,
    LedgerError,
    Movement,
    loss_account,
    performer_account,
    platform_account,
    post_transfer,
    provider_account,
    reverse_transfer,
    wallet_account,
)
from tests.factories import PerformerFactory, UserFactory

pytestmark = pytest.mark.django_db


def credit_tokens(user, tokens, key):
    supply = platform_account(AccountKind.TOKEN_SUPPLY)
    return post_transfer(
        kind="grant",
        idempotency_key=key,
        movements=[Movement(supply, -tokens), Movement(wallet_account(user), tokens)],
        user=user,
    )


def spend_tokens(user, performer, tokens, key):
    """Tokens out of the wallet, their cash value to the performer (a tip)."""
    return post_transfer(
        kind="tip",
        idempotency_key=key,
        movements=[
            Movement(wallet_account(user), -tokens),
            Movement(platform_account(AccountKind.TOKEN_SUPPLY), tokens),
            Movement(platform_account(AccountKind.TOKEN_FLOAT), -tokens * 10),
            Movement(performer_account(performer, AccountKind.PERFORMER_PENDING), tokens * 6),
            Movement(platform_account(AccountKind.PLATFORM_FEES), tokens * 4),
        ],
        user=user,
        performer=performer,
        gross_cents=tokens * 10,
        performer_cents=tokens * 6,
    )


def test_transfer_moves_balances_and_is_idempotent(viewer, ledger_clean):
    transfer, created = credit_tokens(viewer, 100, "k1")
    assert created
    again, created_again = credit_tokens(viewer, 100, "k1")
    assert not created_again and again.pk == transfer.pk
    assert selectors.wallet_balance(viewer) == 100
    assert Entry.objects.filter(transfer=transfer).count() == 2
    assert platform_account(AccountKind.TOKEN_SUPPLY).balance == -100


def test_entries_must_sum_to_zero_per_unit(viewer):
    wallet = wallet_account(viewer)
    with pytest.raises(LedgerError):
        post_transfer(kind="grant", idempotency_key="bad", movements=[Movement(wallet, 5)])
    provider = provider_account("sandbox")
    with pytest.raises(LedgerError):
        # Balanced in count but across two units: still refused.
        post_transfer(kind="grant", idempotency_key="bad2", movements=[Movement(wallet, 5), Movement(provider, -5)])
    assert not Transfer.objects.exists()


def test_insufficient_funds_moves_nothing(viewer, performer, ledger_clean):
    credit_tokens(viewer, 10, "k1")
    with pytest.raises(InsufficientFunds), transaction.atomic():
        spend_tokens(viewer, performer, 11, "tip1")
    assert selectors.wallet_balance(viewer) == 10
    assert not Transfer.objects.filter(idempotency_key="tip1").exists()
    assert selectors.performer_balances(performer)[AccountKind.PERFORMER_PENDING] == 0
    spend_tokens(viewer, performer, 10, "tip2")
    assert selectors.wallet_balance(viewer) == 0
    assert selectors.performer_balances(performer)[AccountKind.PERFORMER_PENDING] == 60


def test_database_refuses_negative_holding_balance(viewer):
    wallet = wallet_account(viewer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=wallet.pk).update(balance=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(code="x", kind=AccountKind.WALLET, unit=Unit.TOKENS, allow_negative=True)


def test_reversal_claws_back_and_books_shortfall_to_loss(viewer, performer, ledger_clean):
    provider = provider_account("sandbox")
    sale, _ = post_transfer(
        kind="ticket",
        idempotency_key="sale",
        movements=[
            Movement(provider, -1000),
            Movement(performer_account(performer, AccountKind.PERFORMER_PENDING), 600),
            Movement(platform_account(AccountKind.PLATFORM_FEES), 400),
        ],
        user=viewer,
        performer=performer,
        gross_cents=1000,
        performer_cents=600,
    )
    # The performer's pending earnings were partly paid out in the meantime.
    pending = performer_account(performer, AccountKind.PERFORMER_PENDING)
    payouts = performer_account(performer, AccountKind.PAYOUTS_IN_FLIGHT)
    post_transfer(kind="payout", idempotency_key="p", movements=[Movement(pending, -450), Movement(payouts, 450)])
    refund, created = reverse_transfer(original=sale, kind="refund", idempotency_key="refund:sale")
    assert created and refund.related_id == sale.pk
    balances = selectors.performer_balances(performer)
    assert balances[AccountKind.PERFORMER_PENDING] == 0
    assert balances[AccountKind.PAYOUTS_IN_FLIGHT] == 450
    assert loss_account(Unit.CENTS).balance == -450
    assert provider_account("sandbox").balance == 0
    # A second refund or a chargeback of the same sale is a no-op returning the
    # first reversal (under the original's row lock, so racing reversals of one
    # sale don't fail with an IntegrityError either).
    _, again = reverse_transfer(original=sale, kind="refund", idempotency_key="refund:sale")
    assert not again
    chargeback, created = reverse_transfer(original=sale, kind="chargeback", idempotency_key="cb:sale")
    assert not created and chargeback.pk == refund.pk
    assert Transfer.objects.filter(related=sale, kind__in=["refund", "chargeback"]).count() == 1
    assert loss_account(Unit.CENTS).balance == -450


def test_reversal_of_spent_tokens_books_token_loss(viewer, performer, ledger_clean):
    purchase, _ = credit_tokens(viewer, 100, "buy")
    spend_tokens(viewer, performer, 70, "tip")
    reverse_transfer(original=purchase, kind="chargeback", idempotency_key="cb")
    assert selectors.wallet_balance(viewer) == 0
    assert loss_account(Unit.TOKENS).balance == -70


def test_ledger_check_reports_tampering(viewer, ledger_clean):
    credit_tokens(viewer, 100, "k1")
    call_command("ledger_check")
    wallet = wallet_account(viewer)
    Account.objects.filter(pk=wallet.pk).update(balance=99)
    with pytest.raises(CommandError):
        call_command("ledger_check")
    report = selectors.check_invariants()
    assert any("stored balance 99 != sum of entries 100" in p for p in report.problems)
    Account.objects.filter(pk=wallet.pk).update(balance=100)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers")
def test_postgres_refuses_editing_history_and_unbalanced_entries(viewer):
    transfer, _ = credit_tokens(viewer, 5, "k1")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        Entry.objects.filter(transfer=transfer).update(amount=6)
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        Transfer.objects.filter(pk=transfer.pk).update(memo="edited")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        Entry.objects.filter(transfer=transfer).delete()
    with pytest.raises(IntegrityError, match="sum to"), transaction.atomic():
        bad = Transfer.objects.create(kind="grant", idempotency_key="raw", created_at=transfer.created_at)
        Entry.objects.create(
            transfer=bad, account=wallet_account(viewer), amount=1, unit="tokens", created_at=bad.created_at
        )
        connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent PostgreSQL connections")
@pytest.mark.django_db(transaction=True)
def test_concurrent_spends_never_overdraw():
    """50 threads spending from 10 wallets that cover only some of the spends."""
    performer = PerformerFactory()
    users = [UserFactory() for _ in range(10)]
    for i, user in enumerate(users):
        credit_tokens(user, 25 + i, f"fund:{user.pk}")  # 25..34 tokens; each spend is 10
    allowed = sum((25 + i) // 10 for i in range(10))
    barrier = threading.Barrier(50)

    def worker(n):
        user = users[n % 10]
        barrier.wait()
        try:
            spend_tokens(user, performer, 10, f"spend:{n}")
            return True
        except InsufficientFunds:
            return False
        finally:
            connections.close_all()

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(worker, range(50)))
    assert sum(results) == allowed
    assert Transfer.objects.filter(kind="tip").count() == allowed
    for i, user in enumerate(users):
        assert selectors.wallet_balance(user) == (25 + i) % 10
    assert selectors.performer_balances(performer)[AccountKind.PERFORMER_PENDING] == allowed * 60
    call_command("ledger_check")


def test_platform_shards_sum_to_the_account_total(viewer, performer, ledger_clean):
    from marquee.ledger.services import platform

    credit_tokens(viewer, 50, "k")
    for shard in (0, 1, 5):
        post_transfer(
            kind="grant",
            idempotency_key=f"s{shard}",
            movements=[
                Movement(platform(AccountKind.PLATFORM_FEES, shard=shard), 7),
                Movement(provider_account("sandbox"), -7),
            ],
        )
    assert Account.objects.filter(kind=AccountKind.PLATFORM_FEES).count() == 3
    assert selectors.platform_total(AccountKind.PLATFORM_FEES, Unit.CENTS) == 21

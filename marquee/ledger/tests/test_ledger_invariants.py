"""Ledger invariants that mutation testing showed no test pinned: exact
balances and entries of a transfer, refusals that move nothing, the
clawback order of a reversal, the reads and every problem ``check_invariants``
reports."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from marquee.ledger import selectors
from marquee.ledger.models import Account, AccountKind, Entry, Transfer, Unit
from marquee.ledger.services import (
    InsufficientFunds,
    LedgerError,
    Movement,
    loss_account,
    performer_account,
    performer_earnings,
    platform,
    platform_account,
    post_transfer,
    provider_account,
    reverse_transfer,
    wallet,
    wallet_account,
)
from tests.factories import PerformerFactory, UserFactory

pytestmark = pytest.mark.django_db


def grant(user, tokens, key, **kwargs):
    return post_transfer(
        kind="grant",
        idempotency_key=key,
        movements=[Movement(platform(AccountKind.TOKEN_SUPPLY), -tokens), Movement(wallet(user), tokens)],
        user=user,
        **kwargs,
    )


def sale(viewer, performer, key, gross=1000, share=600):
    return post_transfer(
        kind="ticket",
        idempotency_key=key,
        movements=[
            Movement(provider_account("sandbox"), -gross),
            Movement(performer_earnings(performer, AccountKind.PERFORMER_PENDING), share),
            Movement(platform(AccountKind.PLATFORM_FEES), gross - share),
        ],
        user=viewer,
        performer=performer,
        gross_cents=gross,
        performer_cents=share,
        source_type="billing.purchase",
        source_id=key,
    )


def balances():
    return dict(Account.objects.values_list("code", "balance"))


# --- post_transfer ------------------------------------------------------------


def test_transfer_records_its_fields_and_one_entry_per_account(viewer, performer):
    when = timezone.now() + datetime.timedelta(days=3)
    transfer, created = post_transfer(
        kind="tip",
        idempotency_key="t1",
        movements=[
            Movement(provider_account("sandbox"), -10),
            Movement(performer_earnings(performer, AccountKind.PERFORMER_PENDING), 6),
            Movement(performer_earnings(performer, AccountKind.PERFORMER_PENDING), 0),
            Movement(platform(AccountKind.PLATFORM_FEES), 4),
        ],
        user=viewer,
        performer=performer,
        source_type="billing.purchase",
        source_id=42,
        available_at=when,
        gross_cents=10,
        performer_cents=6,
        memo="x" * 250,
    )
    transfer.refresh_from_db()
    assert created
    assert (transfer.kind, transfer.user, transfer.performer) == ("tip", viewer, performer)
    assert (transfer.source_type, transfer.source_id) == ("billing.purchase", "42")
    assert transfer.available_at == when
    assert (transfer.gross_cents, transfer.performer_cents) == (10, 6)
    assert transfer.memo == "x" * 200
    assert transfer.related is None
    entries = {e.account.code: (e.amount, e.unit) for e in transfer.entries.select_related("account")}
    assert entries == {
        "provider_clearing:cents:sandbox": (-10, "cents"),
        f"performer_pending:{performer.pk}": (6, "cents"),
        "platform_fees:cents": (4, "cents"),
    }
    assert all(e.created_at == transfer.created_at for e in transfer.entries.all())


def test_movements_on_one_account_are_netted_into_one_entry(viewer):
    grant(viewer, 50, "g")
    transfer, _ = post_transfer(
        kind="grant",
        idempotency_key="net",
        movements=[
            Movement(wallet_account(viewer), 30),
            Movement(wallet_account(viewer), -25),
            Movement(platform_account(AccountKind.TOKEN_SUPPLY), -5),
        ],
    )
    assert sorted(transfer.entries.values_list("account__code", "amount")) == [
        ("token_supply:tokens", -5),
        (f"wallet:{viewer.pk}", 5),
    ]
    assert selectors.wallet_balance(viewer) == 55
    # Optional fields default to "nothing", not to made-up values.
    assert (transfer.source_type, transfer.source_id, transfer.memo) == ("", "", "")
    assert (transfer.gross_cents, transfer.performer_cents, transfer.user, transfer.performer) == (0, 0, None, None)


def test_an_account_netting_to_zero_gets_no_entry_and_the_others_still_move(performer):
    pending = performer_account(performer, AccountKind.PERFORMER_PENDING)  # first in the lock order
    transfer, _ = post_transfer(
        kind="grant",
        idempotency_key="zero",
        movements=[
            Movement(pending, 10),
            Movement(pending, -10),
            Movement(provider_account("sandbox"), -5),
            Movement(platform(AccountKind.PLATFORM_FEES), 5),
        ],
    )
    assert sorted(transfer.entries.values_list("account__code", "amount")) == [
        ("platform_fees:cents", 5),
        ("provider_clearing:cents:sandbox", -5),
    ]
    assert platform_account(AccountKind.PLATFORM_FEES).balance == 5
    assert provider_account("sandbox").balance == -5
    assert performer_account(performer, AccountKind.PERFORMER_PENDING).balance == 0


def test_an_account_opened_concurrently_is_used_not_duplicated(viewer):
    """Another request opens the same account between our read and our insert."""
    from unittest import mock

    theirs = Account.objects.create(code=f"wallet:{viewer.pk}", kind=AccountKind.WALLET, unit=Unit.TOKENS, user=viewer)
    # Our read happened before their insert: it found nothing.
    with mock.patch.object(Account.objects, "filter", return_value=[]):
        account = wallet_account(viewer)
    assert account.pk == theirs.pk
    assert account.code == f"wallet:{viewer.pk}" and account.pk is not None
    assert Account.objects.filter(code=account.code).count() == 1


def test_only_zero_movements_are_refused(viewer):
    with pytest.raises(LedgerError, match=r"^a transfer needs at least one non-zero movement$"):
        post_transfer(kind="grant", idempotency_key="z", movements=[Movement(wallet(viewer), 0)])
    with pytest.raises(LedgerError, match=r"^a transfer needs at least one non-zero movement$"):
        post_transfer(kind="grant", idempotency_key="z", movements=[])
    with pytest.raises(LedgerError, match=r"^entries do not sum to zero per unit: \{.*: 5\}$"):
        post_transfer(kind="grant", idempotency_key="z", movements=[Movement(wallet(viewer), 5)])
    assert not Transfer.objects.exists()


def test_non_integer_amounts_are_refused(viewer):
    with pytest.raises(LedgerError, match=r"^amounts are integers$"):
        post_transfer(
            kind="grant",
            idempotency_key="f",
            movements=[Movement(wallet(viewer), 1.5), Movement(platform(AccountKind.TOKEN_SUPPLY), -1.5)],
        )
    assert not Transfer.objects.exists() and not Entry.objects.exists()


def test_idempotent_replay_moves_nothing_even_with_other_movements(viewer):
    first, _ = grant(viewer, 10, "same")
    before = balances()
    again, created = grant(viewer, 999, "same")
    assert (again.pk, created) == (first.pk, False)
    assert balances() == before
    assert Transfer.objects.count() == 1 and Entry.objects.count() == 2


def test_spending_the_exact_balance_is_allowed_one_more_is_refused(viewer, performer):
    grant(viewer, 10, "g")
    with pytest.raises(InsufficientFunds) as refused, transaction.atomic():
        post_transfer(
            kind="tip",
            idempotency_key="over",
            movements=[Movement(wallet(viewer), -11), Movement(platform(AccountKind.TOKEN_SUPPLY), 11)],
        )
    # One error type: a 402 with the shortfall, and no internal account code in the message.
    assert (refused.value.code, refused.value.status, refused.value.extra) == (
        "insufficient_funds",
        402,
        {"needed": 11},
    )
    assert str(refused.value) == "Not enough tokens for this."
    assert selectors.wallet_balance(viewer) == 10
    post_transfer(
        kind="tip",
        idempotency_key="exact",
        movements=[Movement(wallet(viewer), -10), Movement(platform(AccountKind.TOKEN_SUPPLY), 10)],
    )
    assert selectors.wallet_balance(viewer) == 0


def test_refusal_late_in_the_lock_order_rolls_back_earlier_updates(viewer):
    """The provider account (allow_negative) and a funded wallet are updated
    before the empty wallet is found short: none of it may stay."""
    rich, poor = viewer, UserFactory()
    grant(rich, 100, "g")
    before = balances()
    with pytest.raises(InsufficientFunds), transaction.atomic():
        post_transfer(
            kind="tip",
            idempotency_key="bad",
            movements=[
                Movement(wallet(rich), -5),
                Movement(wallet(poor), -5),
                Movement(platform(AccountKind.TOKEN_SUPPLY), 10),
            ],
        )
    assert balances() == before
    assert not Transfer.objects.filter(idempotency_key="bad").exists()


def test_outside_world_accounts_may_go_negative_holding_accounts_may_not(viewer):
    grant(viewer, 10, "g")
    assert platform_account(AccountKind.TOKEN_SUPPLY).balance == -10
    assert platform_account(AccountKind.TOKEN_SUPPLY).allow_negative is True
    assert wallet_account(viewer).allow_negative is False
    with pytest.raises(AssertionError):
        platform(AccountKind.WALLET)
    with pytest.raises(AssertionError):
        performer_earnings(PerformerFactory(), AccountKind.PLATFORM_FEES)


@override_settings(LEDGER_PLATFORM_SHARDS=4)
def test_platform_account_codes_and_shards():
    assert platform(AccountKind.PLATFORM_FEES).code == "platform_fees:cents"
    assert platform(AccountKind.TOKEN_SUPPLY).code == "token_supply:tokens"
    assert platform(AccountKind.PROVIDER_CLEARING, Unit.CENTS, provider="stripe").code == (
        "provider_clearing:cents:stripe"
    )
    assert platform(AccountKind.PLATFORM_FEES, shard=4).code == "platform_fees:cents"
    assert platform(AccountKind.PLATFORM_FEES, shard=6).code == "platform_fees:cents#2"
    spec = platform(AccountKind.CHARGEBACK_LOSS, Unit.TOKENS)
    assert (spec.kind, spec.unit, spec.allow_negative) == (AccountKind.CHARGEBACK_LOSS, Unit.TOKENS, True)
    assert loss_account(Unit.TOKENS).code == "chargeback_loss:tokens"


def test_accounts_are_opened_once_with_their_owner(viewer, performer):
    first = wallet_account(viewer)
    assert wallet_account(viewer).pk == first.pk
    assert (first.kind, first.unit, first.user, first.performer) == (AccountKind.WALLET, Unit.TOKENS, viewer, None)
    pending = performer_account(performer, AccountKind.PERFORMER_PENDING)
    assert (pending.kind, pending.unit, pending.performer, pending.user) == (
        AccountKind.PERFORMER_PENDING,
        Unit.CENTS,
        performer,
        None,
    )
    assert pending.code == f"performer_pending:{performer.pk}"
    assert Account.objects.count() == 2


# --- reverse_transfer ---------------------------------------------------------


def test_reversal_takes_back_from_pending_then_available_then_loss(viewer, performer):
    original, _ = sale(viewer, performer, "sale", gross=1000, share=600)
    other, _ = sale(viewer, performer, "sale2", gross=500, share=300)
    pending = performer_account(performer, AccountKind.PERFORMER_PENDING)
    available = performer_account(performer, AccountKind.PERFORMER_AVAILABLE)
    payouts = performer_account(performer, AccountKind.PAYOUTS_IN_FLIGHT)
    # 900 pending: release 700 to available, pay 500 of it out.
    post_transfer(kind="release", idempotency_key="r", movements=[Movement(pending, -700), Movement(available, 700)])
    post_transfer(kind="payout", idempotency_key="p", movements=[Movement(available, -500), Movement(payouts, 500)])
    # Now pending 200, available 200: the 600 refund takes 200 + 200, 200 is a loss.
    refund, created = reverse_transfer(original=original, kind="refund", idempotency_key="refund:sale")
    assert created
    assert refund.memo == f"refund of transfer {original.pk}"
    assert (refund.user, refund.performer, refund.related) == (viewer, performer, original)
    assert (refund.gross_cents, refund.performer_cents) == (1000, 600)
    assert (refund.source_type, refund.source_id) == (original.source_type, original.source_id)
    got = selectors.performer_balances(performer)
    assert got == {"performer_pending": 0, "performer_available": 0, "payouts_in_flight": 500}
    assert loss_account(Unit.CENTS).balance == -200
    assert provider_account("sandbox").balance == -500
    assert platform_account(AccountKind.PLATFORM_FEES).balance == 200
    amounts = dict(refund.entries.values_list("account__code", "amount"))
    assert amounts == {
        "provider_clearing:cents:sandbox": 1000,
        f"performer_pending:{performer.pk}": -200,
        f"performer_available:{performer.pk}": -200,
        "platform_fees:cents": -400,
        "chargeback_loss:cents": -200,
    }
    assert other.pk != refund.pk


def test_reversal_never_takes_the_same_earnings_twice(viewer, performer):
    """A sale that credited both pending and available earnings: after the
    performer was paid most of it, the refund takes what is left once and books
    the rest as a loss (it must not count the same available cents for both)."""
    pending = performer_earnings(performer, AccountKind.PERFORMER_PENDING)
    available = performer_earnings(performer, AccountKind.PERFORMER_AVAILABLE)
    original, _ = post_transfer(
        kind="ticket",
        idempotency_key="split",
        movements=[Movement(provider_account("sandbox"), -1000), Movement(pending, 600), Movement(available, 400)],
        performer=performer,
    )
    post_transfer(kind="release", idempotency_key="r", movements=[Movement(pending, -600), Movement(available, 600)])
    payouts = performer_earnings(performer, AccountKind.PAYOUTS_IN_FLIGHT)
    post_transfer(kind="payout", idempotency_key="p", movements=[Movement(available, -700), Movement(payouts, 700)])
    reverse_transfer(original=original, kind="refund", idempotency_key="refund")
    assert selectors.performer_balances(performer) == {
        "performer_pending": 0,
        "performer_available": 0,
        "payouts_in_flight": 700,
    }
    assert loss_account(Unit.CENTS).balance == -700


def test_reversal_returns_spent_tokens_to_the_wallet(viewer, performer):
    grant(viewer, 100, "g")
    tip, _ = post_transfer(
        kind="tip",
        idempotency_key="tip",
        movements=[
            Movement(wallet(viewer), -10),
            Movement(platform(AccountKind.TOKEN_SUPPLY), 10),
            Movement(platform(AccountKind.TOKEN_FLOAT), -100),
            Movement(performer_earnings(performer, AccountKind.PERFORMER_PENDING), 60),
            Movement(platform(AccountKind.PLATFORM_FEES), 40),
        ],
        user=viewer,
        performer=performer,
    )
    reverse_transfer(original=tip, kind="refund", idempotency_key="refund:tip")
    assert selectors.wallet_balance(viewer) == 100
    assert selectors.performer_balances(performer)["performer_pending"] == 0
    assert loss_account(Unit.CENTS).balance == 0 and loss_account(Unit.TOKENS).balance == 0


def test_reversal_with_enough_pending_books_no_loss(viewer, performer):
    original, _ = sale(viewer, performer, "sale")
    refund, _ = reverse_transfer(original=original, kind="chargeback", idempotency_key="cb", memo="disputed")
    assert refund.memo == "disputed"
    assert refund.kind == "chargeback"
    assert selectors.performer_balances(performer)["performer_pending"] == 0
    codes = set(refund.entries.values_list("account__code", flat=True))
    assert "chargeback_loss:cents" not in codes
    assert f"performer_available:{performer.pk}" not in codes


def test_reversal_replay_returns_the_first_and_moves_nothing(viewer, performer):
    original, _ = sale(viewer, performer, "sale")
    first, _ = reverse_transfer(original=original, kind="refund", idempotency_key="refund:sale")
    before = balances()
    again, created = reverse_transfer(original=original, kind="refund", idempotency_key="refund:sale")
    assert (again.pk, created) == (first.pk, False)
    assert balances() == before


# --- selectors ----------------------------------------------------------------


def test_wallet_balance_of_nobody_is_zero(viewer):
    from django.contrib.auth.models import AnonymousUser

    grant(viewer, 7, "g")
    assert selectors.wallet_balance(viewer) == 7
    assert selectors.wallet_balance(None) == 0
    assert selectors.wallet_balance(AnonymousUser()) == 0
    assert selectors.wallet_balance(UserFactory()) == 0


def test_wallet_history_is_newest_first_limited_and_own(viewer, outsider):
    for n in range(4):
        grant(viewer, n + 1, f"g{n}")
    grant(outsider, 100, "other")
    history = list(selectors.wallet_history(viewer, limit=3))
    assert [e.amount for e in history] == [4, 3, 2]
    assert all(e.account.user_id == viewer.pk for e in history)
    assert len(selectors.wallet_history(viewer)) == 4


def test_wallet_history_default_page_is_fifty(viewer):
    for n in range(51):
        grant(viewer, 1, f"g{n}")
    assert len(selectors.wallet_history(viewer)) == 50


def test_wallet_history_orders_by_time_then_newest_row(viewer):
    from unittest import mock

    from marquee.ledger import services

    base = timezone.now()
    with mock.patch.object(services.timezone, "now", return_value=base):
        grant(viewer, 1, "same-time-a")
        grant(viewer, 2, "same-time-b")
    with mock.patch.object(services.timezone, "now", return_value=base - datetime.timedelta(hours=1)):
        grant(viewer, 3, "backdated")  # recorded last, but happened first
    assert [e.amount for e in selectors.wallet_history(viewer)] == [2, 1, 3]


def test_platform_total_sums_shards_of_one_kind_and_unit_only(viewer):
    for shard in (0, 1, 2):
        post_transfer(
            kind="grant",
            idempotency_key=f"s{shard}",
            movements=[
                Movement(platform(AccountKind.PLATFORM_FEES, shard=shard), 5),
                Movement(provider_account("sandbox"), -5),
            ],
        )
    grant(viewer, 3, "g")
    assert selectors.platform_total(AccountKind.PLATFORM_FEES, Unit.CENTS) == 15
    assert selectors.platform_total(AccountKind.PLATFORM_FEES, Unit.TOKENS) == 0
    assert selectors.platform_total(AccountKind.TOKEN_SUPPLY, Unit.TOKENS) == -3
    assert selectors.platform_total(AccountKind.CHARGEBACK_LOSS, Unit.CENTS) == 0


def test_performer_balances_are_the_performers_own(viewer, performer):
    sale(viewer, performer, "mine", gross=100, share=60)
    sale(viewer, PerformerFactory(), "theirs", gross=1000, share=600)
    assert selectors.performer_balances(performer) == {
        "performer_pending": 60,
        "performer_available": 0,
        "payouts_in_flight": 0,
    }


def test_earnings_transfers_filters_kind_performer_and_half_open_range(viewer, performer):
    tip, _ = sale(viewer, performer, "a")
    grant(viewer, 5, "g", performer=performer)  # not an earning
    sale(viewer, PerformerFactory(), "other")
    refund, _ = reverse_transfer(original=tip, kind="refund", idempotency_key="rf")
    rows = list(selectors.earnings_transfers(performer))
    assert [r.pk for r in rows] == [tip.pk, refund.pk]
    assert [r.pk for r in selectors.earnings_transfers(performer, since=tip.created_at)] == [tip.pk, refund.pk]
    assert [r.pk for r in selectors.earnings_transfers(performer, since=refund.created_at)] == [refund.pk]
    assert [r.pk for r in selectors.earnings_transfers(performer, until=refund.created_at)] == [tip.pk]
    assert list(selectors.earnings_transfers(performer, until=tip.created_at)) == []
    disputed, _ = sale(viewer, performer, "b")
    chargeback, _ = reverse_transfer(original=disputed, kind="chargeback", idempotency_key="cb")
    assert [r.pk for r in selectors.earnings_transfers(performer, since=disputed.created_at)] == [
        disputed.pk,
        chargeback.pk,
    ]


# --- check_invariants ---------------------------------------------------------
# Tampering with rows: on PostgreSQL the append-only triggers refuse it
# (test_ledger.py pins that), so these run on SQLite.
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="tampers with rows PostgreSQL protects")


def test_clean_ledger_reports_counts_and_no_problem(viewer):
    grant(viewer, 5, "g")
    report = selectors.check_invariants()
    assert report.ok and report.problems == []
    assert (report.transfers, report.accounts) == (1, 2)


@sqlite_only
@pytest.mark.skip_ledger_check
def test_check_reports_an_unbalanced_transfer_and_unit(viewer):
    transfer, _ = grant(viewer, 5, "g")
    Entry.objects.filter(transfer=transfer, amount=5).update(amount=6)
    report = selectors.check_invariants()
    assert not report.ok
    assert "entries in tokens sum to 1, not 0" in report.problems
    assert f"transfer {transfer.pk} tokens entries sum to 1" in report.problems
    assert f"account wallet:{viewer.pk}: stored balance 5 != sum of entries 6" in report.problems


@sqlite_only
@pytest.mark.skip_ledger_check
def test_check_reports_a_transfer_without_entries_and_a_negative_holding(viewer):
    empty = Transfer.objects.create(kind="grant", idempotency_key="empty", created_at=timezone.now())
    account = wallet_account(viewer)
    # Bypass the CHECK constraint to simulate a corrupted row.
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA ignore_check_constraints = 1")
        cursor.execute("UPDATE ledger_account SET balance = -3 WHERE id = %s", [account.pk])
        cursor.execute("PRAGMA ignore_check_constraints = 0")
    report = selectors.check_invariants()
    assert f"transfer {empty.pk} has no entries" in report.problems
    assert f"account wallet:{viewer.pk} is negative: -3" in report.problems
    assert f"account wallet:{viewer.pk}: stored balance -3 != sum of entries 0" in report.problems


@pytest.mark.skip_ledger_check
def test_check_reports_a_balance_on_an_account_without_entries(viewer):
    """Value that appears on an account no transfer ever touched (a raw UPDATE,
    a bad data migration) is a mismatch like any other."""
    account = wallet_account(viewer)
    Account.objects.filter(pk=account.pk).update(balance=50)
    report = selectors.check_invariants()
    assert f"account wallet:{viewer.pk}: stored balance 50 != sum of entries 0" in report.problems
    Account.objects.filter(pk=account.pk).update(balance=0)


@sqlite_only
@pytest.mark.skip_ledger_check
def test_check_report_is_bounded_per_kind_of_problem():
    """A badly broken ledger yields a readable report: at most 20 rows per
    kind of problem (50 for balance mismatches), not one line per row."""
    now = timezone.now()
    for n in range(21):
        Transfer.objects.create(kind="grant", idempotency_key=f"empty{n}", created_at=now)
    for n in range(51):
        account = Account.objects.create(code=f"acct{n}", kind=AccountKind.TOKEN_SUPPLY, unit=Unit.TOKENS)
        transfer = Transfer.objects.create(kind="grant", idempotency_key=f"one-sided{n}", created_at=now)
        Entry.objects.create(transfer=transfer, account=account, amount=1, unit=Unit.CENTS, created_at=now)
    problems = selectors.check_invariants().problems

    def count(fragment):
        return sum(fragment in p for p in problems)

    assert count("has no entries") == 20
    assert count(" cents entries sum to 1") == 20
    assert count("stored balance 0 != sum of entries 1") == 50
    assert count("unit differs from its account's") == 20
    assert "entries in cents sum to 51, not 0" in problems


@sqlite_only
@pytest.mark.skip_ledger_check
def test_check_reports_an_entry_in_the_wrong_unit(viewer):
    transfer, _ = grant(viewer, 5, "g")
    entry = Entry.objects.get(transfer=transfer, amount=5)
    Entry.objects.filter(pk=entry.pk).update(unit="cents")
    report = selectors.check_invariants()
    assert f"entry {entry.pk} unit differs from its account's" in report.problems
    assert "entries in tokens sum to -5, not 0" in report.problems
    assert "entries in cents sum to 5, not 0" in report.problems

"""The hold path of ``marquee/ledger/services.py`` (``Posting.apply`` with a
hold): what the one balance statement of the hold's account checks, called
through ``prepare_transfer`` directly so the guards of ``post_from_hold`` do
not hide them (a concurrent writer could change the balance between that
check and the statement).  For mutation testing (issue 11)."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.models import F

from marquee.ledger import selectors
from marquee.ledger.holds import place_hold, post_from_hold
from marquee.ledger.models import Account, AccountKind, Entry, Hold, Transfer
from marquee.ledger.services import (
    InsufficientFunds,
    LedgerError,
    Movement,
    platform_account,
    post_transfer,
    prepare_transfer,
    wallet,
    wallet_account,
)
from marquee.ledger.tests.test_holds import spend_credits
from marquee.ledger.tests.test_ledger import credit_tokens

pytestmark = pytest.mark.django_db


def account_of(viewer) -> tuple[int, int]:
    account = Account.objects.get(pk=wallet_account(viewer).pk)
    return account.balance, account.held


def prepared(hold, performer, tokens, key, extra=0):
    return prepare_transfer(
        kind="private",
        idempotency_key=key,
        movements=[Movement(hold.account, -tokens), *spend_credits(performer, tokens)],
        _hold=hold,
        _hold_extra=extra,
    )


def applied(hold, performer, tokens, key, extra=0):
    """What ``post_from_hold`` does around the statement: the hold row follows."""
    with transaction.atomic():
        posting = prepared(hold, performer, tokens, key, extra)
        Hold.objects.filter(pk=hold.pk).update(posted=F("posted") + tokens, amount=F("amount") + extra)
        posting.apply()


def test_a_hold_posting_releases_what_it_takes_and_takes_the_extension(viewer, performer):
    credit_tokens(viewer, 50, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=10, idempotency_key="h")
    applied(hold, performer, 6, "p", extra=5)
    # balance 50 → 44; held 10 − 6 posted + 5 extension = 9.
    assert account_of(viewer) == (44, 9)
    transfer = Transfer.objects.get(idempotency_key="p")
    assert transfer.hold_id == hold.pk
    assert Entry.objects.filter(transfer=transfer, account=wallet_account(viewer)).get().amount == -6


def test_the_extension_may_take_exactly_the_available_balance(viewer, performer):
    credit_tokens(viewer, 50, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=10, idempotency_key="h")
    applied(hold, performer, 10, "p", extra=40)
    assert account_of(viewer) == (40, 40)
    assert selectors.available_tokens(viewer) == 0


def test_an_extension_beyond_the_available_balance_is_refused_by_the_statement(viewer, performer):
    credit_tokens(viewer, 50, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=10, idempotency_key="h")
    with pytest.raises(InsufficientFunds) as refused, transaction.atomic():
        prepared(hold, performer, 10, "p", extra=41).apply()
    assert (refused.value.code, refused.value.message, refused.value.status) == (
        "insufficient_funds",
        "Not enough tokens for this.",
        402,
    )
    assert account_of(viewer) == (50, 10)
    assert not Transfer.objects.filter(idempotency_key="p").exists()


def test_posting_more_than_the_account_holds_is_refused_by_the_statement(viewer, performer):
    credit_tokens(viewer, 50, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=10, idempotency_key="h")
    with pytest.raises(InsufficientFunds), transaction.atomic():
        prepared(hold, performer, 11, "p").apply()
    assert account_of(viewer) == (50, 10)
    # All of what is held is fine.
    applied(hold, performer, 10, "q")
    assert account_of(viewer) == (40, 0)


def test_a_hold_posting_that_pays_the_holds_account_is_refused(viewer, performer):
    credit_tokens(viewer, 50, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=10, idempotency_key="h")
    supply = platform_account(AccountKind.TOKEN_SUPPLY)
    with pytest.raises(LedgerError) as refused, transaction.atomic():
        post_from_hold(
            hold=hold,
            amount=5,
            idempotency_key="p",
            credits=[Movement(wallet_account(viewer), 10), Movement(supply, -5)],
            kind="private",
        )
    assert (refused.value.code, refused.value.message, refused.value.status) == (
        "ledger_invariant",
        "a posting from a hold must take from the hold's account",
        500,
    )
    assert account_of(viewer) == (50, 10)
    assert Hold.objects.get(pk=hold.pk).posted == 0


def test_a_transfer_without_a_non_zero_movement_is_refused_whole(viewer):
    # Written after the mutation run (survivors prepare_transfer__mutmut_11..18: code and status).
    account = wallet_account(viewer)
    for movements in ([], [Movement(account, 0)]):
        with pytest.raises(LedgerError) as refused, transaction.atomic():
            post_transfer(kind="grant", idempotency_key="empty", movements=movements)
        assert (refused.value.code, refused.value.message, refused.value.status, refused.value.extra) == (
            "ledger_invariant",
            "a transfer needs at least one non-zero movement",
            500,
            {},
        )
    assert not Transfer.objects.filter(idempotency_key="empty").exists()


def test_a_movement_that_is_not_an_integer_is_refused_whole(viewer):
    # Written after the mutation run (survivors prepare_transfer__mutmut_38..48: code and status).
    account, supply = wallet_account(viewer), platform_account(AccountKind.TOKEN_SUPPLY)
    with pytest.raises(LedgerError) as refused, transaction.atomic():
        post_transfer(kind="grant", idempotency_key="float", movements=[Movement(account, 2.5), Movement(supply, -2.5)])
    assert (refused.value.code, refused.value.message, refused.value.status, refused.value.extra) == (
        "ledger_invariant",
        "amounts are integers",
        500,
        {},
    )
    assert not Transfer.objects.filter(idempotency_key="float").exists()


# Found by the mutation run (both failed before the fix): movements were
# checked for "at least one non-zero" before they were netted per account, so
# movements that cancel out on every account (A −5, A +5) recorded a transfer
# with no entries; from a hold, the hold's ``posted`` grew while the account's
# ``held`` did not fall.  Both are refused now, with nothing written.
def test_movements_that_cancel_out_on_every_account_are_refused(viewer):
    credit_tokens(viewer, 50, "fund")
    account = wallet_account(viewer)
    with pytest.raises(LedgerError), transaction.atomic():
        post_transfer(kind="grant", idempotency_key="nothing", movements=[Movement(account, -5), Movement(account, 5)])
    assert not Transfer.objects.filter(idempotency_key="nothing").exists()


def test_a_hold_posting_whose_credits_cancel_the_debit_is_refused(viewer):
    credit_tokens(viewer, 50, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=10, idempotency_key="h")
    with pytest.raises(LedgerError), transaction.atomic():
        post_from_hold(
            hold=hold, amount=5, idempotency_key="p", credits=[Movement(wallet_account(viewer), 5)], kind="private"
        )
    assert account_of(viewer) == (50, 10)
    assert Hold.objects.get(pk=hold.pk).posted == 0


def test_movements_that_do_not_sum_to_zero_are_refused_whole(viewer):
    # Written after the mutation run (survivors prepare_transfer__mutmut_55..64: code and status).
    with pytest.raises(LedgerError) as refused, transaction.atomic():
        post_transfer(kind="grant", idempotency_key="unbalanced", movements=[Movement(wallet_account(viewer), 3)])
    assert (refused.value.code, refused.value.status, refused.value.extra) == ("ledger_invariant", 500, {})
    assert refused.value.message.startswith("entries do not sum to zero per unit: ") and ": 3}" in refused.value.message
    assert not Transfer.objects.filter(idempotency_key="unbalanced").exists()


@pytest.mark.django_db(transaction=True)
def test_prepare_transfer_outside_a_transaction_is_refused_whole(performer):
    # Written after the mutation run (survivors prepare_transfer__mutmut_66..73).
    from tests.factories import UserFactory

    viewer = UserFactory()
    credit_tokens(viewer, 10, "fund")
    supply = platform_account(AccountKind.TOKEN_SUPPLY)
    with pytest.raises(LedgerError) as refused:
        prepare_transfer(
            kind="grant",
            idempotency_key="outside",
            movements=[Movement(wallet_account(viewer), 1), Movement(supply, -1)],
        )
    assert (refused.value.code, refused.value.message, refused.value.status, refused.value.extra) == (
        "ledger_invariant",
        "prepare_transfer runs inside the transaction that applies it",
        500,
        {},
    )
    assert not Transfer.objects.filter(idempotency_key="outside").exists()

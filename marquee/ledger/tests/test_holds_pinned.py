"""Holds pinned field by field (mutation testing of ``marquee/ledger/holds.py``):
what a hold records, each refusal's code, message, status and shortfall, the
exact boundaries of reserving and extending (``extend_to``), what a posting
from a hold writes on its transfer, and a call outside any transaction.
Expected values are written out here (10 cents a token, 60 % share, as in
``test_holds.spend_credits``), not computed by the code under test."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from marquee.ledger import selectors
from marquee.ledger.holds import HoldClosed, extend_hold, place_hold, post_from_hold, void_hold
from marquee.ledger.models import Account, AccountKind, Entry, Hold, Transfer
from marquee.ledger.services import InsufficientFunds, LedgerError, wallet, wallet_account
from marquee.ledger.tests.test_holds import spend_credits
from marquee.ledger.tests.test_ledger import credit_tokens

pytestmark = pytest.mark.django_db


def error_of(exc) -> tuple:
    return exc.code, exc.message, exc.status, exc.extra


def fresh(hold) -> tuple:
    hold = Hold.objects.get(pk=hold.pk)
    return hold.amount, hold.posted, hold.status


def test_a_hold_records_what_it_escrows_and_when(viewer):
    credit_tokens(viewer, 100, "fund")
    account = wallet_account(viewer)
    before = timezone.now()
    hold, created = place_hold(
        account=account, amount=40, idempotency_key="show:7", source_type="privates.privateshow", source_id=7
    )
    after = timezone.now()
    assert created
    row = Hold.objects.get(pk=hold.pk)
    assert row.account_id == account.pk
    assert (row.amount, row.posted, row.status) == (40, 0, Hold.Status.PENDING)
    assert (row.source_type, row.source_id, row.idempotency_key) == ("privates.privateshow", "7", "show:7")
    assert before <= row.created_at <= after and row.closed_at is None
    assert selectors.held_tokens(viewer) == 40


def test_a_hold_without_a_source_stores_it_empty(viewer):
    credit_tokens(viewer, 5, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=1, idempotency_key="h")
    row = Hold.objects.get(pk=hold.pk)
    assert (row.source_type, row.source_id, row.amount) == ("", "", 1)


def test_a_hold_may_take_the_whole_available_balance_and_not_one_more(viewer):
    credit_tokens(viewer, 30, "fund")
    place_hold(account=wallet(viewer), amount=10, idempotency_key="first")
    with pytest.raises(InsufficientFunds) as refused, transaction.atomic():
        place_hold(account=wallet(viewer), amount=21, idempotency_key="too-much")
    assert error_of(refused.value) == ("insufficient_funds", "Not enough tokens for this.", 402, {"needed": 21})
    assert not Hold.objects.filter(idempotency_key="too-much").exists()
    place_hold(account=wallet(viewer), amount=20, idempotency_key="exact")
    assert selectors.held_tokens(viewer) == 30 and selectors.available_tokens(viewer) == 0


def test_hold_refusals_are_ledger_errors_with_their_reason(viewer):
    credit_tokens(viewer, 5, "fund")
    for bad in (0, -1, 1.0, True, None):
        with pytest.raises(LedgerError) as refused:
            place_hold(account=wallet(viewer), amount=bad, idempotency_key="bad")
        assert error_of(refused.value) == ("ledger_invariant", "hold amounts are positive integers", 500, {})
    supply = Account.objects.get(kind=AccountKind.TOKEN_SUPPLY)
    with pytest.raises(LedgerError) as refused:
        place_hold(account=supply, amount=1, idempotency_key="platform")
    assert error_of(refused.value) == (
        "ledger_invariant",
        "holds are for accounts that must not go negative",
        500,
        {},
    )
    assert not Hold.objects.exists()


def test_extending_by_one_token_reserves_it(viewer):
    credit_tokens(viewer, 20, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=10, idempotency_key="h")
    returned = extend_hold(hold=hold, to_amount=11)
    assert returned.amount == 11 and returned.pk == hold.pk
    assert fresh(hold) == (11, 0, Hold.Status.PENDING)
    assert selectors.held_tokens(viewer) == 11


def test_extending_to_the_whole_balance_is_allowed_one_more_is_refused_with_the_shortfall(viewer):
    credit_tokens(viewer, 20, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=10, idempotency_key="h")
    with pytest.raises(InsufficientFunds) as refused, transaction.atomic():
        extend_hold(hold=hold, to_amount=21)
    assert error_of(refused.value) == ("insufficient_funds", "Not enough tokens for this.", 402, {"needed": 11})
    assert fresh(hold) == (10, 0, Hold.Status.PENDING) and selectors.held_tokens(viewer) == 10
    assert extend_hold(hold=hold, to_amount=20).amount == 20
    assert fresh(hold) == (20, 0, Hold.Status.PENDING) and selectors.held_tokens(viewer) == 20


def test_a_closed_hold_says_which_and_how_it_closed(viewer):
    credit_tokens(viewer, 20, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=10, idempotency_key="h")
    void_hold(hold=hold)
    with pytest.raises(HoldClosed) as closed, transaction.atomic():
        extend_hold(hold=hold, to_amount=15)
    assert str(closed.value) == f"hold {hold.pk} is voided"
    assert closed.value.hold.pk == hold.pk and closed.value.hold.status == Hold.Status.VOIDED
    assert selectors.held_tokens(viewer) == 0


def test_a_posting_from_a_hold_writes_everything_it_is_given(viewer, performer):
    credit_tokens(viewer, 100, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=30, idempotency_key="h")
    available_at = datetime.datetime(2026, 4, 1, 12, 0, tzinfo=datetime.UTC)
    transfer, created = post_from_hold(
        hold=hold,
        amount=10,
        idempotency_key="show:7:period:1",
        credits=spend_credits(performer, 10),
        kind="private",
        user=viewer,
        performer=performer,
        source_type="privates.privateshow",
        source_id=7,
        gross_cents=100,
        performer_cents=60,
        available_at=available_at,
        memo="period 1",
    )
    assert created
    row = Transfer.objects.get(pk=transfer.pk)
    assert (row.kind, row.idempotency_key, row.hold_id) == ("private", "show:7:period:1", hold.pk)
    assert (row.user_id, row.performer_id) == (viewer.pk, performer.pk)
    assert (row.source_type, row.source_id, row.memo) == ("privates.privateshow", "7", "period 1")
    assert (row.gross_cents, row.performer_cents, row.available_at) == (100, 60, available_at)
    moves = dict(Entry.objects.filter(transfer=row).values_list("account__code", "amount"))
    assert moves == {
        f"wallet:{viewer.pk}": -10,
        "token_supply:tokens": 10,
        "token_float:cents": -100,
        f"performer_pending:{performer.pk}": 60,
        "platform_fees:cents": 40,
    }
    assert fresh(hold) == (30, 10, Hold.Status.PENDING)
    assert selectors.wallet_balance(viewer) == 90 and selectors.held_tokens(viewer) == 20


def test_a_replayed_posting_refreshes_a_stale_instance_of_the_hold(viewer, performer):
    credit_tokens(viewer, 100, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=10, idempotency_key="h")
    stale = Hold.objects.get(pk=hold.pk)
    post_from_hold(hold=hold, amount=4, idempotency_key="p", credits=spend_credits(performer, 4), kind="private")
    post_from_hold(
        hold=hold, amount=6, idempotency_key="q", credits=spend_credits(performer, 6), kind="private", extend_to=20
    )
    assert (stale.amount, stale.posted) == (10, 0)
    again, created = post_from_hold(
        hold=stale, amount=4, idempotency_key="p", credits=spend_credits(performer, 4), kind="private"
    )
    assert not created and again.idempotency_key == "p" and again.hold_id == hold.pk
    assert (stale.amount, stale.posted, stale.status) == (20, 10, Hold.Status.PENDING)
    assert selectors.wallet_balance(viewer) == 90 and selectors.held_tokens(viewer) == 10


def test_posting_more_than_the_hold_has_left_says_so(viewer, performer):
    credit_tokens(viewer, 100, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=10, idempotency_key="h")
    with pytest.raises(LedgerError) as refused, transaction.atomic():
        post_from_hold(hold=hold, amount=11, idempotency_key="p", credits=spend_credits(performer, 11), kind="private")
    assert error_of(refused.value) == (
        "ledger_invariant",
        f"posting 11 exceeds what hold {hold.pk} has left",
        500,
        {},
    )
    # Exactly what is left is fine.
    post_from_hold(hold=hold, amount=10, idempotency_key="p", credits=spend_credits(performer, 10), kind="private")
    assert fresh(hold) == (10, 10, Hold.Status.PENDING)


def test_extend_to_takes_the_whole_available_balance_when_it_is_exactly_enough(viewer, performer):
    credit_tokens(viewer, 30, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=10, idempotency_key="h")
    post_from_hold(
        hold=hold, amount=10, idempotency_key="p1", credits=spend_credits(performer, 10), kind="private", extend_to=30
    )
    # Available before: 30 - 10 = 20, exactly what raising 10 to 30 needs.
    assert (hold.amount, hold.posted) == (30, 10)
    assert fresh(hold) == (30, 10, Hold.Status.PENDING)
    assert selectors.wallet_balance(viewer) == 20 and selectors.held_tokens(viewer) == 20
    assert selectors.available_tokens(viewer) == 0


def test_extend_to_below_what_the_posting_needs_still_reserves_the_posting(viewer, performer):
    credit_tokens(viewer, 100, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=10, idempotency_key="h")
    post_from_hold(hold=hold, amount=5, idempotency_key="p1", credits=spend_credits(performer, 5), kind="private")
    # Needs 15 in all; asked to be 12 ahead: the hold becomes 15, not 12.
    post_from_hold(
        hold=hold, amount=10, idempotency_key="p2", credits=spend_credits(performer, 10), kind="private", extend_to=12
    )
    assert fresh(hold) == (15, 15, Hold.Status.PENDING)
    assert selectors.wallet_balance(viewer) == 85 and selectors.held_tokens(viewer) == 0


def test_extend_to_already_covered_changes_nothing_but_the_posting(viewer, performer):
    credit_tokens(viewer, 100, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=40, idempotency_key="h")
    post_from_hold(
        hold=hold, amount=10, idempotency_key="p1", credits=spend_credits(performer, 10), kind="private", extend_to=20
    )
    assert fresh(hold) == (40, 10, Hold.Status.PENDING)
    assert selectors.wallet_balance(viewer) == 90 and selectors.held_tokens(viewer) == 30


def test_extend_to_short_even_for_the_posting_says_the_shortfall(viewer, performer):
    credit_tokens(viewer, 14, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=10, idempotency_key="h")
    with transaction.atomic():
        with pytest.raises(InsufficientFunds) as refused:
            post_from_hold(
                hold=hold,
                amount=15,
                idempotency_key="p",
                credits=spend_credits(performer, 15),
                kind="private",
                extend_to=30,
            )
        assert Hold.objects.filter(pk=hold.pk).exists()  # the transaction is still usable
    # Needs 15 of a hold of 10 with 4 available: 5 short, 1 more than there is.
    assert error_of(refused.value) == ("insufficient_funds", "Not enough tokens for this.", 402, {"needed": 5})
    assert fresh(hold) == (10, 0, Hold.Status.PENDING)
    assert selectors.wallet_balance(viewer) == 14 and selectors.held_tokens(viewer) == 10
    # One token less is exactly affordable: the posting takes the whole balance.
    post_from_hold(
        hold=hold, amount=14, idempotency_key="p", credits=spend_credits(performer, 14), kind="private", extend_to=30
    )
    assert fresh(hold) == (14, 14, Hold.Status.PENDING)
    assert selectors.wallet_balance(viewer) == 0 and selectors.held_tokens(viewer) == 0


def test_a_void_records_when_it_closed(viewer, performer):
    credit_tokens(viewer, 50, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=20, idempotency_key="h")
    before = timezone.now()
    closed, closed_now = void_hold(hold=hold)
    after = timezone.now()
    row = Hold.objects.get(pk=hold.pk)
    assert closed_now and closed.pk == hold.pk
    assert row.status == Hold.Status.VOIDED and before <= row.closed_at <= after
    assert selectors.held_tokens(viewer) == 0 and selectors.available_tokens(viewer) == 50
    again, closed_again = void_hold(hold=hold)
    assert not closed_again and again.closed_at == row.closed_at


@pytest.mark.skip_ledger_check
def test_a_void_that_would_release_more_than_is_held_is_refused(viewer):
    credit_tokens(viewer, 50, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=20, idempotency_key="h")
    Account.objects.filter(pk=wallet_account(viewer).pk).update(held=19)  # corrupted on purpose
    with pytest.raises(LedgerError) as refused, transaction.atomic():
        void_hold(hold=hold)
    assert error_of(refused.value) == (
        "ledger_invariant",
        f"account of hold {hold.pk} holds less than the hold's remainder",
        500,
        {},
    )
    assert fresh(hold) == (20, 0, Hold.Status.PENDING)
    assert selectors.held_tokens(viewer) == 19
    # Exactly the remainder held: released to zero.
    Account.objects.filter(pk=wallet_account(viewer).pk).update(held=20)
    void_hold(hold=hold)
    assert selectors.held_tokens(viewer) == 0


@pytest.mark.django_db(transaction=True)
def test_posting_from_a_hold_outside_a_transaction_opens_its_own(performer):
    from tests.factories import UserFactory

    viewer = UserFactory()
    credit_tokens(viewer, 50, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=20, idempotency_key="h")
    transfer, created = post_from_hold(
        hold=hold, amount=5, idempotency_key="p", credits=spend_credits(performer, 5), kind="private", extend_to=25
    )
    assert created and transfer.hold_id == hold.pk
    assert fresh(hold) == (25, 5, Hold.Status.PENDING)
    # Refused outside a transaction: nothing of it stays.
    with pytest.raises(LedgerError):
        post_from_hold(hold=hold, amount=21, idempotency_key="q", credits=spend_credits(performer, 21), kind="private")
    assert not Transfer.objects.filter(idempotency_key="q").exists()
    assert fresh(hold) == (25, 5, Hold.Status.PENDING)
    assert selectors.wallet_balance(viewer) == 45 and selectors.held_tokens(viewer) == 20


# Written after the first mutation run (survivors post_from_hold 1-5, 10, 26,
# 27, 119-127 and void_hold 13).


def test_a_posting_without_optional_fields_stores_them_empty(viewer, performer):
    credit_tokens(viewer, 20, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=10, idempotency_key="h")
    transfer, _ = post_from_hold(
        hold=hold, amount=3, idempotency_key="p", credits=spend_credits(performer, 3), kind="private"
    )
    row = Transfer.objects.get(pk=transfer.pk)
    assert (row.source_type, row.source_id, row.memo) == ("", "", "")
    assert (row.gross_cents, row.performer_cents, row.available_at) == (0, 0, None)
    assert (row.user_id, row.performer_id) == (None, None)


def test_replaying_a_posting_after_the_hold_is_spent_or_closed_returns_it(viewer, performer):
    credit_tokens(viewer, 20, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=10, idempotency_key="h")
    first, _ = post_from_hold(
        hold=hold, amount=10, idempotency_key="p", credits=spend_credits(performer, 10), kind="private"
    )
    # The hold is spent whole: a retried tick of that posting is still its replay.
    again, created = post_from_hold(
        hold=hold, amount=10, idempotency_key="p", credits=spend_credits(performer, 10), kind="private"
    )
    assert (again.pk, created) == (first.pk, False)
    void_hold(hold=hold)
    after_close, created = post_from_hold(
        hold=hold, amount=10, idempotency_key="p", credits=spend_credits(performer, 10), kind="private"
    )
    assert (after_close.pk, created) == (first.pk, False)
    assert selectors.wallet_balance(viewer) == 10 and Transfer.objects.filter(hold=hold).count() == 1


def test_a_key_of_another_holds_posting_is_refused_with_its_reason(viewer, performer):
    credit_tokens(viewer, 20, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=5, idempotency_key="h")
    other, _ = place_hold(account=wallet(viewer), amount=5, idempotency_key="h2")
    post_from_hold(hold=hold, amount=5, idempotency_key="p", credits=spend_credits(performer, 5), kind="private")
    with pytest.raises(LedgerError) as refused, transaction.atomic():
        post_from_hold(hold=other, amount=5, idempotency_key="p", credits=spend_credits(performer, 5), kind="private")
    assert error_of(refused.value) == (
        "ledger_invariant",
        "idempotency key 'p' belongs to another transfer",
        500,
        {},
    )
    assert fresh(other) == (5, 0, Hold.Status.PENDING)


def test_voiding_one_hold_releases_only_its_own_account(viewer, performer):
    from tests.factories import UserFactory

    other = UserFactory()
    credit_tokens(viewer, 20, "fund")
    credit_tokens(other, 20, "fund-other")
    hold, _ = place_hold(account=wallet(viewer), amount=8, idempotency_key="h")
    place_hold(account=wallet(other), amount=9, idempotency_key="h2")
    void_hold(hold=hold)
    assert selectors.held_tokens(viewer) == 0 and selectors.held_tokens(other) == 9

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import IntegrityError, connections, transaction

from marquee.ledger import selectors
from marquee.ledger.holds import HoldClosed, extend_hold, place_hold, post_from_hold, void_hold
from marquee.ledger.models import Account, AccountKind, Hold, Transfer
from marquee.ledger.services import (
    InsufficientFunds,
    LedgerError,
    Movement,
    performer_account,
    platform_account,
    wallet,
    wallet_account,
)
from marquee.ledger.tests.conftest import postgres_only
from marquee.ledger.tests.test_ledger import credit_tokens, spend_tokens
from tests.factories import PerformerFactory, UserFactory

pytestmark = pytest.mark.django_db


def spend_credits(performer, tokens):
    """The other side of a token spend (as a tip's): 60% to the performer at 10 cents a token."""
    return [
        Movement(platform_account(AccountKind.TOKEN_SUPPLY), tokens),
        Movement(platform_account(AccountKind.TOKEN_FLOAT), -tokens * 10),
        Movement(performer_account(performer, AccountKind.PERFORMER_PENDING), tokens * 6),
        Movement(platform_account(AccountKind.PLATFORM_FEES), tokens * 4),
    ]


def post(hold, performer, tokens, key):
    return post_from_hold(
        hold=hold, amount=tokens, idempotency_key=key, credits=spend_credits(performer, tokens), kind="private"
    )


def test_hold_reserves_tokens_that_nothing_else_can_spend(viewer, performer):
    credit_tokens(viewer, 100, "fund")
    hold, created = place_hold(account=wallet(viewer), amount=70, idempotency_key="h1")
    assert created and hold.status == Hold.Status.PENDING
    assert selectors.wallet_balance(viewer) == 100
    assert selectors.held_tokens(viewer) == 70
    assert selectors.available_tokens(viewer) == 30
    # A tip (an ordinary conditional debit) may spend only the available 30.
    with pytest.raises(InsufficientFunds), transaction.atomic():
        spend_tokens(viewer, performer, 31, "tip-too-much")
    assert not Transfer.objects.filter(idempotency_key="tip-too-much").exists()
    spend_tokens(viewer, performer, 30, "tip-ok")
    assert selectors.available_tokens(viewer) == 0
    # A second hold cannot reserve the same tokens.
    with pytest.raises(InsufficientFunds), transaction.atomic():
        place_hold(account=wallet(viewer), amount=1, idempotency_key="h2")
    assert not Hold.objects.filter(idempotency_key="h2").exists()
    assert selectors.held_tokens(viewer) == 70


def test_place_hold_is_idempotent_and_refuses_what_is_not_there(viewer):
    credit_tokens(viewer, 50, "fund")
    first, _ = place_hold(account=wallet(viewer), amount=40, idempotency_key="h")
    again, created = place_hold(account=wallet(viewer), amount=40, idempotency_key="h")
    assert not created and again.pk == first.pk
    assert selectors.held_tokens(viewer) == 40
    with pytest.raises(InsufficientFunds), transaction.atomic():
        place_hold(account=wallet(viewer), amount=11, idempotency_key="other")
    for bad in (0, -5, 2.5, True):
        with pytest.raises(LedgerError):
            place_hold(account=wallet(viewer), amount=bad, idempotency_key=f"bad{bad}")
    assert Hold.objects.count() == 1
    with pytest.raises(LedgerError):
        place_hold(account=platform_account(AccountKind.TOKEN_SUPPLY), amount=1, idempotency_key="platform")


def test_post_from_hold_is_partial_and_idempotent_per_key(viewer, performer):
    credit_tokens(viewer, 100, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=30, idempotency_key="h")
    first, created = post(hold, performer, 10, "hold:h:1")
    assert created and first.hold_id == hold.pk
    again, created_again = post(hold, performer, 10, "hold:h:1")
    assert not created_again and again.pk == first.pk
    hold.refresh_from_db()
    assert (hold.posted, hold.status) == (10, Hold.Status.PENDING)
    assert selectors.wallet_balance(viewer) == 90
    assert selectors.held_tokens(viewer) == 20
    assert selectors.available_tokens(viewer) == 70  # unchanged by posting from the hold
    assert selectors.performer_balances(performer)[AccountKind.PERFORMER_PENDING] == 60
    # More than what remains is refused and moves nothing.
    with pytest.raises(LedgerError), transaction.atomic():
        post(hold, performer, 21, "hold:h:2")
    assert not Transfer.objects.filter(idempotency_key="hold:h:2").exists()
    post(hold, performer, 20, "hold:h:2")
    hold.refresh_from_db()
    assert hold.posted == 30 and selectors.held_tokens(viewer) == 0
    # A key that belongs to a transfer of another hold is not this hold's posting.
    other, _ = place_hold(account=wallet(viewer), amount=5, idempotency_key="h-other")
    with pytest.raises(LedgerError):
        post(other, performer, 5, "hold:h:1")


def test_void_releases_the_rest_exactly_once(viewer, performer):
    credit_tokens(viewer, 100, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=30, idempotency_key="h")
    post(hold, performer, 10, "p1")
    voided, closed = void_hold(hold=hold)
    assert closed and voided.status == Hold.Status.VOIDED and voided.closed_at is not None
    assert selectors.held_tokens(viewer) == 0
    assert selectors.available_tokens(viewer) == 90
    _, closed_again = void_hold(hold=hold)
    assert not closed_again
    assert selectors.held_tokens(viewer) == 0 and selectors.wallet_balance(viewer) == 90
    # Closed: no more postings or extensions.
    with pytest.raises(HoldClosed), transaction.atomic():
        post(hold, performer, 1, "p2")
    with pytest.raises(HoldClosed), transaction.atomic():
        extend_hold(hold=hold, to_amount=40)
    assert not Transfer.objects.filter(idempotency_key="p2").exists()


def test_a_hold_spent_whole_closes_as_posted(viewer, performer):
    credit_tokens(viewer, 10, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=10, idempotency_key="h")
    post(hold, performer, 10, "p")
    closed, _ = void_hold(hold=hold)
    assert closed.status == Hold.Status.POSTED


def test_extend_hold_to_a_total_is_retry_safe(viewer):
    credit_tokens(viewer, 50, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=10, idempotency_key="h")
    extend_hold(hold=hold, to_amount=30)
    extend_hold(hold=hold, to_amount=30)  # a retried tick reserves nothing more
    extend_hold(hold=hold, to_amount=20)  # never shrinks
    hold.refresh_from_db()
    assert hold.amount == 30 and selectors.held_tokens(viewer) == 30
    with pytest.raises(InsufficientFunds), transaction.atomic():
        extend_hold(hold=hold, to_amount=51)
    hold.refresh_from_db()
    assert hold.amount == 30 and selectors.held_tokens(viewer) == 30


@pytest.mark.skip_ledger_check
def test_database_refuses_spending_held_tokens_with_a_raw_update(viewer):
    credit_tokens(viewer, 20, "fund")
    place_hold(account=wallet(viewer), amount=15, idempotency_key="h")
    account = wallet_account(viewer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(balance=14)  # below what is held
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(held=21)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(held=-1)
    hold = Hold.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Hold.objects.filter(pk=hold.pk).update(posted=16)
    with pytest.raises(IntegrityError), transaction.atomic():
        Hold.objects.filter(pk=hold.pk).update(status=Hold.Status.VOIDED)  # closed needs closed_at
    account.refresh_from_db()
    assert (account.balance, account.held) == (20, 15)


@pytest.mark.skip_ledger_check
def test_ledger_check_covers_holds(viewer, performer):
    credit_tokens(viewer, 100, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=30, idempotency_key="h")
    post(hold, performer, 10, "p")
    assert selectors.check_invariants().ok
    account = wallet_account(viewer)
    Account.objects.filter(pk=account.pk).update(held=25)
    problems = selectors.check_invariants().problems
    assert any("held 25 != open holds' remainders 20" in p for p in problems)
    Account.objects.filter(pk=account.pk).update(held=20)
    Hold.objects.filter(pk=hold.pk).update(posted=12, amount=32)  # posted without a transfer
    Account.objects.filter(pk=account.pk).update(held=20)
    problems = selectors.check_invariants().problems
    assert any(f"hold {hold.pk}: posted 12 != 10 taken by its transfers" in p for p in problems)


@postgres_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_holds_and_tips_never_overdraw_a_wallet():
    """Threads placing holds, extending them and tipping from one wallet of 100
    tokens: whatever wins, the wallet never spends what it does not have and
    held tokens are never spent by a tip."""
    performer = PerformerFactory()
    user = UserFactory()
    credit_tokens(user, 100, "fund")
    n = 30
    barrier = threading.Barrier(n)

    def worker(i):
        barrier.wait()
        try:
            with transaction.atomic():
                if i % 3 == 0:
                    spend_tokens(user, performer, 10, f"tip:{i}")
                    return "tip", 10
                hold, _ = place_hold(account=wallet(user), amount=10, idempotency_key=f"hold:{i}")
                if i % 3 == 2:
                    extend_hold(hold=hold, to_amount=15)
                    return "hold", 15
                return "hold", 10
        except InsufficientFunds:
            return "refused", 0
        finally:
            connections.close_all()

    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(worker, range(n)))
    tipped = sum(amount for kind, amount in results if kind == "tip")
    held = sum(amount for kind, amount in results if kind == "hold")
    assert tipped + held <= 100
    assert any(kind == "refused" for kind, _ in results)
    assert selectors.wallet_balance(user) == 100 - tipped
    assert selectors.held_tokens(user) == held
    assert Hold.objects.filter(status=Hold.Status.PENDING).count() == sum(1 for k, _ in results if k == "hold")


@postgres_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_postings_with_one_key_post_once():
    performer = PerformerFactory()
    user = UserFactory()
    credit_tokens(user, 100, "fund")
    hold, _ = place_hold(account=wallet(user), amount=50, idempotency_key="h")
    barrier = threading.Barrier(8)

    def worker(i):
        barrier.wait()
        try:
            with transaction.atomic():
                return post(hold, performer, 10, "show:1:period:1")[1]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(8) as pool:
        created = list(pool.map(worker, range(8)))
    assert created.count(True) == 1
    hold.refresh_from_db()
    assert hold.posted == 10 and selectors.wallet_balance(user) == 90


def test_chargeback_with_held_tokens_claws_back_only_what_is_available(viewer):
    purchase, _ = credit_tokens(viewer, 100, "buy")
    place_hold(account=wallet(viewer), amount=60, idempotency_key="h")
    with transaction.atomic():
        from marquee.ledger.services import reverse_transfer

        reverse_transfer(original=purchase, kind="chargeback", idempotency_key="cb")
    # The held tokens stay escrowed for the show; what cannot be clawed back is a loss.
    assert selectors.wallet_balance(viewer) == 60
    assert selectors.held_tokens(viewer) == 60


def post_ahead(hold, performer, tokens, key, extend_to):
    return post_from_hold(
        hold=hold,
        amount=tokens,
        idempotency_key=key,
        credits=spend_credits(performer, tokens),
        kind="private",
        extend_to=extend_to,
    )


def test_post_from_hold_extends_the_hold_ahead_in_the_same_call(viewer, performer):
    credit_tokens(viewer, 100, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=10, idempotency_key="h")
    post_ahead(hold, performer, 10, "p1", extend_to=20)
    assert (hold.amount, hold.posted) == (20, 10)  # the caller's instance is refreshed
    hold.refresh_from_db()
    assert (hold.amount, hold.posted) == (20, 10)
    assert selectors.wallet_balance(viewer) == 90 and selectors.held_tokens(viewer) == 10
    # The next post is covered; it reserves the one after.
    post_ahead(hold, performer, 10, "p2", extend_to=30)
    assert selectors.wallet_balance(viewer) == 80 and selectors.held_tokens(viewer) == 10
    # A retried key moves nothing and extends nothing.
    post_ahead(hold, performer, 10, "p2", extend_to=50)
    hold.refresh_from_db()
    assert (hold.amount, hold.posted) == (30, 20) and selectors.held_tokens(viewer) == 10
    assert selectors.performer_balances(performer)[AccountKind.PERFORMER_PENDING] == 120


def test_post_from_hold_reserves_only_what_the_post_needs_when_ahead_is_short(viewer, performer):
    credit_tokens(viewer, 25, "fund")
    hold, _ = place_hold(account=wallet(viewer), amount=10, idempotency_key="h")
    post_ahead(hold, performer, 10, "p1", extend_to=20)  # available 15: ahead (10 more) is affordable
    post_ahead(hold, performer, 10, "p2", extend_to=30)  # covered; ahead would need 10 of the 5 available
    hold.refresh_from_db()
    assert (hold.amount, hold.posted) == (20, 20)
    assert selectors.wallet_balance(viewer) == 5 and selectors.held_tokens(viewer) == 0
    # Not even this post is covered: refused before anything is written, and
    # the caller's transaction goes on (no savepoint needed).
    with transaction.atomic():
        before = Transfer.objects.count()
        with pytest.raises(InsufficientFunds):
            post_ahead(hold, performer, 10, "p3", extend_to=40)
        assert Transfer.objects.count() == before  # a query still runs: the transaction is usable
    hold.refresh_from_db()
    assert (hold.amount, hold.posted, hold.status) == (20, 20, Hold.Status.PENDING)
    assert selectors.wallet_balance(viewer) == 5 and selectors.held_tokens(viewer) == 0
    assert not Transfer.objects.filter(idempotency_key="p3").exists()

"""Holds: two-phase transfers (pending → posted / voided), as TigerBeetle's
pending transfers or a card authorisation.

A hold reserves part of an account's balance: ``Account.held`` grows by the
hold's amount, and since the database refuses ``balance - held < 0`` for
accounts that must not go negative, nothing else (a tip, a content sale, a
second hold) can spend what is reserved.  The hold is then spent in parts
(``post_from_hold``: each part an ordinary immutable transfer, idempotent by
its key) and closed exactly once (``void_hold`` releases what was not posted).

Like ``post_transfer``, these functions add no savepoint of their own: call
them inside ``transaction.atomic()``; when one raises, the caller's atomic
block rolls everything back.  Lock order: the hold row, then account rows in
the ledger's global order (``post_transfer``), so holds never deadlock with
tips, which lock account rows only.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import F, Subquery
from django.utils import timezone

from marquee.ledger.models import Account, Hold, Transfer
from marquee.ledger.services import (
    AccountSpec,
    InsufficientFunds,
    LedgerError,
    Movement,
    prepare_transfer,
    resolve_accounts,
)


class HoldClosed(Exception):
    """The hold was already posted or voided (e.g. a tick after the show ended)."""

    def __init__(self, hold: Hold):
        self.hold = hold
        super().__init__(f"hold {hold.pk} is {hold.status}")


def _check_amount(amount) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise LedgerError("ledger_invariant", "hold amounts are positive integers", 500)


def _reserve(account_id: int, amount: int) -> bool:
    """``held += amount`` if the available balance covers it (one conditional UPDATE)."""
    rows = Account.objects.filter(pk=account_id, allow_negative=False, balance__gte=F("held") + amount)
    return rows.update(held=F("held") + amount) == 1


def place_hold(
    *, account: Account | AccountSpec, amount: int, idempotency_key: str, source_type: str = "", source_id=""
) -> tuple[Hold, bool]:
    """Reserve ``amount`` of ``account``'s available balance; returns
    ``(hold, created)``.  A repeated key returns the first hold and reserves
    nothing more.  Raises ``InsufficientFunds`` when the available balance is short."""
    _check_amount(amount)
    existing = Hold.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False
    if isinstance(account, AccountSpec):
        account = resolve_accounts([account])[account.code]
    if account.allow_negative:
        raise LedgerError("ledger_invariant", "holds are for accounts that must not go negative", 500)
    with transaction.atomic(savepoint=False):
        hold = Hold.objects.create(
            account=account,
            amount=amount,
            idempotency_key=idempotency_key,
            source_type=source_type,
            source_id=str(source_id),
            created_at=timezone.now(),
        )
        if not _reserve(account.pk, amount):
            raise InsufficientFunds("insufficient_funds", f"Not enough {account.unit} for this.", 402, needed=amount)
    return hold, True


def _lock(hold: Hold) -> Hold:
    return Hold.objects.select_for_update().get(pk=hold.pk)


def extend_hold(*, hold: Hold, to_amount: int) -> Hold:
    """Raise the hold's total to ``to_amount`` (a no-op if it is already
    there, so a retried call reserves nothing twice).  Raises
    ``InsufficientFunds`` (nothing changed) or ``HoldClosed``."""
    _check_amount(to_amount)
    with transaction.atomic(savepoint=False):
        locked = _lock(hold)
        if locked.status != Hold.Status.PENDING:
            raise HoldClosed(locked)
        extra = to_amount - locked.amount
        if extra > 0:
            if not _reserve(locked.account_id, extra):
                raise InsufficientFunds(
                    "insufficient_funds", f"Not enough {locked.account.unit} for this.", 402, needed=extra
                )
            Hold.objects.filter(pk=locked.pk).update(amount=to_amount)
            locked.amount = to_amount
    return locked


def post_from_hold(
    *,
    hold: Hold,
    amount: int,
    idempotency_key: str,
    credits: Iterable[Movement],
    kind: str,
    user=None,
    performer=None,
    source_type: str = "",
    source_id="",
    gross_cents: int = 0,
    performer_cents: int = 0,
    available_at=None,
    memo: str = "",
    extend_to: int | None = None,
) -> tuple[Transfer, bool]:
    """Spend ``amount`` of the hold: one transfer taking it from the hold's
    account to ``credits`` (the other side, summing to ``amount`` in the
    hold's unit).  Idempotent by ``idempotency_key``: a repeated (or
    concurrent) call returns the first transfer and posts nothing.  Raises
    ``HoldClosed`` for a closed hold and ``LedgerError`` for more than remains.

    ``extend_to``: the hold's total is raised to it in the same statements
    (a per-period charge keeping its hold one period ahead) when the
    account's available balance allows; if not, only as far as this posting
    needs, and if even that is short, ``InsufficientFunds`` is raised with
    nothing written (before any nested block, so the caller's transaction
    stays usable).  ``hold`` (the caller's instance) is refreshed with the
    new total and posted amount."""
    if not connection.in_atomic_block:
        with transaction.atomic():
            return post_from_hold(**locals())
    _check_amount(amount)
    # The hold and its account row locked in one statement, with whether the
    # key was posted already (a duplicate that committed while this waited for
    # the lock is not in this statement's snapshot: ``prepare_transfer``'s own
    # check, a statement later, finds it).  The account is read (available
    # balance) and written below; the other accounts follow in the ledger's
    # global order, as after ``extend_hold``.
    posted_key = Transfer.objects.filter(idempotency_key=idempotency_key).values("pk")[:1]
    locked = (
        Hold.objects.select_for_update(of=("self", "account"))
        .select_related("account")
        .annotate(posted_key=Subquery(posted_key))
        .get(pk=hold.pk)
    )
    existing = Transfer.objects.get(pk=locked.posted_key) if locked.posted_key else None
    if existing is None:
        if locked.status != Hold.Status.PENDING:
            raise HoldClosed(locked)
        need, total = locked.posted + amount, locked.amount
        if extend_to is not None:
            available = locked.account.balance - locked.account.held
            for target in (max(extend_to, need), need):  # ahead if affordable, else what this posting needs
                if target > total and target - total <= available:
                    total = target
                    break
            if need > total:
                raise InsufficientFunds(
                    "insufficient_funds", f"Not enough {locked.account.unit} for this.", 402, needed=need - total
                )
        if need > total:
            raise LedgerError("ledger_invariant", f"posting {amount} exceeds what hold {locked.pk} has left", 500)
        credits = list(credits)
        if any(getattr(c.account, "pk", None) == locked.account_id for c in credits):
            # A credit back to the held account would grow ``posted`` by more
            # than the account gives (by all of it when they cancel out).
            raise LedgerError("ledger_invariant", "a posting from a hold must take from the hold's account", 500)
        with transaction.atomic(savepoint=False):
            posting = prepare_transfer(
                kind=kind,
                idempotency_key=idempotency_key,
                movements=[Movement(locked.account, -amount), *credits],
                user=user,
                performer=performer,
                source_type=source_type,
                source_id=source_id,
                available_at=available_at,
                gross_cents=gross_cents,
                performer_cents=performer_cents,
                memo=memo,
                _hold=locked,
                _hold_extra=total - locked.amount,
            )
            if posting.created:
                Hold.objects.filter(pk=locked.pk).update(posted=F("posted") + amount, amount=total)
                posting.apply()
                hold.posted, hold.amount, hold.status = need, total, locked.status
                return posting.transfer, True
        # The lock query's snapshot predates a duplicate that committed while it waited.
        existing = posting.transfer
    if existing.hold_id != hold.pk:
        raise LedgerError("ledger_invariant", f"idempotency key {idempotency_key!r} belongs to another transfer", 500)
    hold.posted, hold.amount, hold.status = locked.posted, locked.amount, locked.status
    return existing, False


def void_hold(*, hold: Hold) -> tuple[Hold, bool]:
    """Close the hold, releasing what was not posted; returns ``(hold,
    closed_now)``.  Exactly once: closing a closed hold changes nothing.
    The closed status is ``posted`` if all of it was spent, else ``voided``."""
    with transaction.atomic(savepoint=False):
        locked = _lock(hold)
        if locked.status != Hold.Status.PENDING:
            return locked, False
        rest = locked.amount - locked.posted
        if rest and Account.objects.filter(pk=locked.account_id, held__gte=rest).update(held=F("held") - rest) != 1:
            raise LedgerError(
                "ledger_invariant", f"account of hold {locked.pk} holds less than the hold's remainder", 500
            )
        locked.status = Hold.Status.VOIDED if rest else Hold.Status.POSTED
        locked.closed_at = timezone.now()
        locked.save(update_fields=["status", "closed_at"])
    return locked, True

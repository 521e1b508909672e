"""Writes to the ledger.  Every movement of value goes through ``post_transfer``.

Concurrency: balances change only through conditional ``UPDATE`` statements
(``balance = balance + d WHERE balance + d >= held`` for accounts that must not
go negative), issued in one fixed order — holding accounts by id first, then the
platform's shared accounts by id — so two transfers can never wait on each other
in a cycle, and the shared rows are locked as briefly as possible.  The CHECK
constraint on ``Account`` is the backstop if any code path ever skips this.
One module (~400 lines) because the lock order above is one rule: transfers,
holds and the PostgreSQL apply function must all follow it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from marquee.ledger.models import NON_NEGATIVE_KINDS, Account, AccountKind, Entry, Hold, Transfer, Unit
from marquee.lib.errors import DomainError
from marquee.lib.fields import clip


class LedgerError(DomainError):
    """A transfer that would break double entry: a programming error, so its
    status is 500 and it propagates as a server error (logged), never a 4xx."""


class InsufficientFunds(DomainError):
    """An account that must not go negative does not hold enough."""


@dataclass(frozen=True)
class AccountSpec:
    """How to find (or open) an account; resolved in one query per transfer."""

    code: str
    kind: str
    unit: str
    user: object = None
    performer: object = None
    allow_negative: bool = False


@dataclass(frozen=True)
class Movement:
    account: Account | AccountSpec
    amount: int  # positive: into the account; negative: out of it


# --- accounts ---------------------------------------------------------------

_UNIT_OF = {
    AccountKind.WALLET: Unit.TOKENS,
    AccountKind.TOKEN_SUPPLY: Unit.TOKENS,
}


def resolve_accounts(specs: Iterable[AccountSpec]) -> dict[str, Account]:
    """``code -> Account`` for every spec, opening missing accounts."""
    specs = {spec.code: spec for spec in specs}
    found = {a.code: a for a in Account.objects.filter(code__in=list(specs))}
    for code, spec in specs.items():
        if code in found:
            continue
        try:
            with transaction.atomic():
                found[code] = Account.objects.create(
                    code=code,
                    kind=spec.kind,
                    unit=spec.unit,
                    user=spec.user,
                    performer=spec.performer,
                    allow_negative=spec.allow_negative,
                )
        except IntegrityError:
            # Opened concurrently by someone else: theirs is as good as ours.
            found[code] = Account.objects.get(code=code)
    return found


# ``code -> Account`` of accounts known to be committed, for ``post_transfer``
# (which uses only their id, unit and allow_negative, never a balance): a tip
# then needs no account lookup.  Filled only after the transaction that saw
# the account commits, so a rolled-back account is never cached; accounts are
# never deleted (entries PROTECT them).  Tests clear it (root conftest).
_COMMITTED: dict[str, Account] = {}


def forget_accounts() -> None:
    _COMMITTED.clear()


def _resolve_for_posting(specs: list[AccountSpec]) -> dict[str, Account]:
    found = {spec.code: _COMMITTED[spec.code] for spec in specs if spec.code in _COMMITTED}
    missing = [spec for spec in specs if spec.code not in found]
    if missing:
        fresh = resolve_accounts(missing)
        found.update(fresh)
        transaction.on_commit(lambda: _COMMITTED.update(fresh))
    return found


def wallet(user) -> AccountSpec:
    return AccountSpec(f"wallet:{user.pk}", AccountKind.WALLET, Unit.TOKENS, user=user)


def performer_earnings(performer, kind: str) -> AccountSpec:
    assert kind in (AccountKind.PERFORMER_PENDING, AccountKind.PERFORMER_AVAILABLE, AccountKind.PAYOUTS_IN_FLIGHT)
    return AccountSpec(f"{kind}:{performer.pk}", kind, Unit.CENTS, performer=performer)


def platform(kind: str, unit: str | None = None, *, provider: str = "", shard: int = 0) -> AccountSpec:
    """The platform's shared accounts (may go negative: they face the outside world).

    ``shard``: hot accounts touched by every tip are split into
    ``LEDGER_PLATFORM_SHARDS`` rows (``code#n``) so concurrent tips do not
    queue on one row lock; the account's total is the sum over its shards."""
    assert kind not in NON_NEGATIVE_KINDS
    unit = unit or _UNIT_OF.get(kind, Unit.CENTS)
    code = f"{kind}:{unit}" + (f":{provider}" if provider else "")
    if shard % settings.LEDGER_PLATFORM_SHARDS:
        code += f"#{shard % settings.LEDGER_PLATFORM_SHARDS}"
    return AccountSpec(code, kind, unit, allow_negative=True)


def _one(spec: AccountSpec) -> Account:
    return resolve_accounts([spec])[spec.code]


def wallet_account(user) -> Account:
    return _one(wallet(user))


def performer_account(performer, kind: str) -> Account:
    return _one(performer_earnings(performer, kind))


def platform_account(kind: str, unit: str | None = None, *, provider: str = "") -> Account:
    return _one(platform(kind, unit, provider=provider))


def provider_account(provider: str) -> Account:
    return platform_account(AccountKind.PROVIDER_CLEARING, Unit.CENTS, provider=provider)


def loss_account(unit: str) -> Account:
    return platform_account(AccountKind.CHARGEBACK_LOSS, unit)


# --- transfers --------------------------------------------------------------


def _lock_order(account: Account):
    return (account.allow_negative, account.pk)


class Posting:
    """A recorded transfer whose balance updates and entries are still to be
    written (``prepare_transfer``); ``apply()`` must run in the same
    transaction (``ledger_check`` would find a transfer without its entries)."""

    def __init__(
        self, transfer: Transfer, created: bool, deltas=(), entries=(), hold: Hold | None = None, hold_extra: int = 0
    ):
        self.transfer, self.created = transfer, created
        # The row returned by ``prepare_transfer(then=...)``'s statement.
        self.then_row: tuple | None = None
        self._deltas, self._entries, self._hold = list(deltas), list(entries), hold
        # Tokens the hold grows by in the same statement (``post_from_hold(extend_to=...)``).
        self._hold_extra = hold_extra

    def apply(self) -> None:
        """Apply the balance updates in the one global lock order, then write
        the entries.  Raises ``InsufficientFunds`` when a holding account
        can't pay (nothing more is written; the caller's atomic block rolls
        back what was)."""
        deltas, self._deltas = self._deltas, []
        if deltas:
            # As an atomic block without a savepoint: a refusal marks the
            # caller's block for rollback even if the caller catches it.
            with transaction.atomic(savepoint=False):
                self._apply(deltas)

    def _apply(self, deltas) -> None:
        if self._hold is not None and connection.vendor == "postgresql":
            # Posting from a hold: its account's ``held`` first gives back
            # what is posted (and takes the extension); the function's check
            # on that row (balance + delta >= held) is then exactly "the
            # available balance covers the extension".  The row is already
            # locked with the hold (``post_from_hold``), so no new lock order.
            hold_account, delta = next((a, d) for a, d in deltas if a.pk == self._hold.account_id)
            if delta >= 0:
                raise LedgerError("ledger_invariant", "a posting from a hold must take from the hold's account", 500)
            change = delta + self._hold_extra
            # change 0 (a per-period post that extends by what it posts): nothing to write or check.
            if (
                change
                and Account.objects.filter(pk=hold_account.pk, held__gte=-change).update(held=F("held") + change) != 1
            ):
                raise _refused(hold_account, delta)
        if connection.vendor == "postgresql":
            # Updates and entries in one round trip (function: migration 0005).
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {_APPLY_CALL}", self._apply_params(deltas))
                refused = cursor.fetchone()[0]
            self._raise_if_refused(deltas, refused)
            return
        for account, delta in deltas:
            rows = Account.objects.filter(pk=account.pk)
            changes = {"balance": F("balance") + delta}
            if self._hold is not None and account.pk == self._hold.account_id:
                # Spent from the hold: balance and held fall together, the
                # available balance stays as it was.
                if delta >= 0:
                    raise LedgerError(
                        "ledger_invariant", "a posting from a hold must take from the hold's account", 500
                    )
                change = delta + self._hold_extra
                rows = rows.filter(held__gte=-change, balance__gte=F("held") + self._hold_extra)
                changes["held"] = F("held") + change
            elif delta < 0:
                rows = rows.filter(Q(allow_negative=True) | Q(balance__gte=F("held") - delta))
            if rows.update(**changes) != 1:
                raise _refused(account, delta)
        Entry.objects.bulk_create(self._entries)

    def _apply_params(self, deltas) -> list:
        return [
            self.transfer.pk,
            [account.pk for account, _ in deltas],
            [delta for _, delta in deltas],
            [entry.account_id for entry in self._entries],
            [entry.unit for entry in self._entries],
            self.transfer.created_at,
        ]

    @staticmethod
    def _raise_if_refused(deltas, refused) -> None:
        for account, delta in deltas:
            if account.pk == refused:
                raise _refused(account, delta)

    def apply_then(self, sql: str, params) -> tuple:
        """PostgreSQL, a posting not from a hold: ``apply()`` and the
        caller's statement ``sql`` in ONE round trip, the caller's after the
        balances (the tip's goal counter: one round trip less while the
        room's hot rows are locked).  ``sql`` is a data-modifying statement
        with RETURNING that must read ``applied_ok`` (true once the balances
        moved; e.g. ``... WHERE (SELECT ok FROM applied_ok)``): reading it is
        what orders it after the balance updates, and it writes nothing when
        they are refused.  Returns the one row it returned (all None if
        none); raises ``InsufficientFunds`` like ``apply()``."""
        if self._hold is not None or connection.vendor != "postgresql":
            raise LedgerError("ledger_invariant", "apply_then is for PostgreSQL postings not from a hold", 500)
        deltas, self._deltas = self._deltas, []
        if not deltas:
            raise LedgerError("ledger_invariant", "apply_then on a posting already applied", 500)
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            # ``sql`` is the caller's constant statement; values are parameters.
            statement = (
                f"WITH applied AS MATERIALIZED (SELECT {_APPLY_CALL} AS refused),"  # noqa: S608
                " applied_ok AS MATERIALIZED (SELECT refused = 0 AS ok FROM applied),"
                f" then_ AS ({sql})"
                " SELECT applied.refused, then_.* FROM applied LEFT JOIN then_ ON true"
            )
            cursor.execute(statement, [*self._apply_params(deltas), *params])
            row = cursor.fetchone()
            self._raise_if_refused(deltas, row[0])
        return tuple(row[1:])


_APPLY_CALL = "ledger_apply_transfer(%s, %s::bigint[], %s::bigint[], %s::bigint[], %s::varchar[], %s)"


def _refused(account: Account, delta: int) -> InsufficientFunds:
    return InsufficientFunds("insufficient_funds", f"Not enough {account.unit} for this.", 402, needed=-delta)


def post_transfer(**kwargs) -> tuple[Transfer, bool]:
    """Record one transfer and apply its balances; returns ``(transfer, created)``.

    Call it inside ``transaction.atomic()``: it adds no savepoint of its own
    (round trips are the cost of a tip), so when it raises, the caller's
    atomic block is what rolls back.  Idempotent on ``idempotency_key``: a
    second call with the same key returns the first transfer and moves
    nothing (a *concurrent* duplicate waits for the first on PostgreSQL and
    returns it; on SQLite it raises IntegrityError and retrying returns it).
    Raises ``InsufficientFunds`` when a holding account would go negative,
    that is below what its holds reserve (``balance - held``).

    ``_hold`` (and ``_hold_extra``) are for ``post_from_hold`` only: the
    tokens that leave the hold's account are released from its ``held``
    (which grows by ``_hold_extra`` when the hold is extended at once)."""
    if not connection.in_atomic_block:
        with transaction.atomic():
            return post_transfer(**kwargs)
    posting = prepare_transfer(**kwargs)
    posting.apply()
    return posting.transfer, posting.created


def prepare_transfer(
    *,
    kind: str,
    idempotency_key: str,
    movements: Iterable[Movement],
    user=None,
    performer=None,
    source_type: str = "",
    source_id: str | int = "",
    related: Transfer | None = None,
    available_at=None,
    gross_cents: int = 0,
    performer_cents: int = 0,
    memo: str = "",
    _hold: Hold | None = None,
    _hold_extra: int = 0,
    then: tuple[str, list] | None = None,
) -> Posting:
    """``post_transfer`` without the balance updates: the transfer and its
    entries are written, the balances change when the caller calls
    ``apply()`` on the result — as late as possible in its transaction, so
    the hot rows (a performer's earnings, the platform shards) stay locked
    only for that statement and the commit, not for the rest of its writes.
    The transfer row is written here, its entries by ``apply()`` (after the
    balances, as before: a refused debit leaves the row without entries)."""
    movements = [m for m in movements if m.amount != 0]
    if not movements:
        raise LedgerError("ledger_invariant", "a transfer needs at least one non-zero movement", 500)
    specs = [m.account for m in movements if isinstance(m.account, AccountSpec)]
    if specs:
        resolved = _resolve_for_posting(specs)
        movements = [
            Movement(resolved[m.account.code], m.amount) if isinstance(m.account, AccountSpec) else m for m in movements
        ]
    totals: dict[str, int] = defaultdict(int)
    deltas: dict[int, int] = defaultdict(int)
    accounts: dict[int, Account] = {}
    for movement in movements:
        if not isinstance(movement.amount, int):
            raise LedgerError("ledger_invariant", "amounts are integers", 500)
        totals[movement.account.unit] += movement.amount
        deltas[movement.account.pk] += movement.amount
        accounts[movement.account.pk] = movement.account
    if any(totals.values()):
        raise LedgerError("ledger_invariant", f"entries do not sum to zero per unit: {dict(totals)}", 500)
    if not any(deltas.values()):
        # Movements that cancel out on every account would record a transfer without entries.
        raise LedgerError("ledger_invariant", "a transfer must change at least one balance", 500)

    if not connection.in_atomic_block:
        raise LedgerError("ledger_invariant", "prepare_transfer runs inside the transaction that applies it", 500)
    now = timezone.now()
    transfer = Transfer(
        kind=kind,
        idempotency_key=idempotency_key,
        created_at=now,
        user=user,
        performer=performer,
        source_type=source_type,
        source_id=str(source_id),
        related=related,
        hold=_hold,
        available_at=available_at,
        gross_cents=gross_cents,
        performer_cents=performer_cents,
        memo=clip(memo, Transfer, "memo"),
    )
    then_row = None
    if connection.vendor == "postgresql":
        inserted = _insert_new(transfer, then)
        if not inserted:
            return Posting(Transfer.objects.get(idempotency_key=idempotency_key), False)
        then_row = inserted[1:] if then else None
    elif then is not None:
        raise LedgerError("ledger_invariant", "prepare_transfer(then=...) is for PostgreSQL", 500)
    else:
        existing = Transfer.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return Posting(existing, False)
        with transaction.atomic(savepoint=False):
            transfer.save(force_insert=True)
    entries = [
        Entry(transfer=transfer, account_id=pk, amount=delta, unit=accounts[pk].unit, created_at=now)
        for pk, delta in deltas.items()
        if delta
    ]
    ordered = [(a, deltas[a.pk]) for a in sorted(accounts.values(), key=_lock_order) if deltas[a.pk]]
    posting = Posting(transfer, True, ordered, entries, _hold, _hold_extra)
    posting.then_row = then_row
    return posting


# Columns from the model (not typed out), so a field added to Transfer is inserted too.
_TRANSFER_FIELDS = [f for f in Transfer._meta.concrete_fields if not f.primary_key]
# Names from the model's metadata, values as parameters.
_INSERT_NEW_SQL = (
    f"INSERT INTO {Transfer._meta.db_table} ({', '.join(f.column for f in _TRANSFER_FIELDS)}) "  # noqa: S608
    f"VALUES ({', '.join(['%s'] * len(_TRANSFER_FIELDS))}) "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)


def _insert_new(transfer: Transfer, then: tuple[str, list] | None = None) -> tuple | None:
    """Insert ``transfer`` unless its key is taken (PostgreSQL): one round
    trip instead of a key lookup and an insert.  None when the key exists;
    a concurrent insert of the same key waits for that transaction and then
    finds its row (committed) or inserts ours (rolled back).

    ``then``: the caller's statement (with RETURNING) in the same round
    trip, reading the new row's id from the CTE ``new_transfer`` (e.g. the
    tip row: ``INSERT … SELECT new_transfer.id … FROM new_transfer``), so it
    writes nothing when the key exists.  Returns ``(id, *its row)``."""
    params = [f.get_db_prep_save(getattr(transfer, f.attname), connection) for f in _TRANSFER_FIELDS]
    if then is None:
        sql = _INSERT_NEW_SQL
    else:
        # ``then[0]`` is the caller's constant statement; values are parameters.
        sql = (
            f"WITH new_transfer AS ({_INSERT_NEW_SQL}), then_ AS ({then[0]})"  # noqa: S608
            " SELECT new_transfer.id, then_.* FROM new_transfer LEFT JOIN then_ ON true"
        )
        params += list(then[1])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    transfer.pk = row[0]
    transfer._state.adding = False
    transfer._state.db = connection.alias
    return tuple(row)


def reverse_transfer(*, original: Transfer, kind: str, idempotency_key: str, memo: str = "") -> tuple[Transfer, bool]:
    """Undo ``original`` with a new transfer (refund or chargeback).

    Value that was paid into a holding account is taken back from it; if it
    has been spent or paid out, a performer's pending earnings are clawed
    back first, then available earnings, and what is still missing is booked
    to the loss account of that unit."""
    existing = Transfer.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False
    with transaction.atomic():
        # Lock the original first: concurrent reversals of it (a refund and a
        # chargeback racing) queue here, and the later one finds the first.
        Transfer.objects.select_for_update().filter(pk=original.pk).first()
        done = original.followups.filter(kind__in=["refund", "chargeback"]).first()
        if done is not None:
            return done, False
        entries = list(original.entries.select_related("account"))
        involved = {e.account_id: e.account for e in entries}
        extra: dict[int, Account] = {}
        for entry in entries:
            if entry.account.performer_id and entry.account.kind == AccountKind.PERFORMER_PENDING:
                available = performer_account(entry.account.performer, AccountKind.PERFORMER_AVAILABLE)
                extra[available.pk] = available
        loss = {unit: loss_account(unit) for unit in {e.unit for e in entries}}
        for account in loss.values():
            extra[account.pk] = account
        involved.update(extra)
        # Lock every row this reversal touches, in the one global order,
        # before reading the balances the clawback depends on.
        rows = Account.objects.select_for_update().filter(pk__in=list(involved)).order_by("allow_negative", "pk")
        locked = {a.pk: a for a in rows}
        movements: list[Movement] = []
        # What can be clawed back is what is available: tokens escrowed by a
        # hold stay with the show they pay for; the rest is a loss.
        remaining = {pk: account.balance - account.held for pk, account in locked.items()}
        for entry in entries:
            account = locked[entry.account_id]
            amount = -entry.amount
            if amount >= 0 or account.allow_negative:
                movements.append(Movement(account, amount))
                remaining[account.pk] += amount
                continue
            wanted = -amount
            sources = [account]
            if account.kind == AccountKind.PERFORMER_PENDING:
                sources.append(performer_account(account.performer, AccountKind.PERFORMER_AVAILABLE))
            for source in sources:
                take = min(wanted, max(remaining[source.pk], 0))
                if take:
                    movements.append(Movement(locked[source.pk], -take))
                    remaining[source.pk] -= take
                    wanted -= take
            if wanted:
                movements.append(Movement(loss[entry.unit], -wanted))
        return post_transfer(
            kind=kind,
            idempotency_key=idempotency_key,
            movements=movements,
            user=original.user,
            performer=original.performer,
            source_type=original.source_type,
            source_id=original.source_id,
            related=original,
            gross_cents=original.gross_cents,
            performer_cents=original.performer_cents,
            memo=memo or f"{kind} of transfer {original.pk}",
        )

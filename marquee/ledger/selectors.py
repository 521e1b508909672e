"""Reads of the ledger (see docs/ledger.md for the earnings read API)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from marquee.ledger.models import EARNING_KINDS, Account, AccountKind, Entry, Hold, Transfer


def wallet_balance(user) -> int:
    """Tokens in ``user``'s wallet (0 if they never had any)."""
    if user is None or not user.is_authenticated:
        return 0
    return Account.objects.filter(kind=AccountKind.WALLET, user=user).values_list("balance", flat=True).first() or 0


def _wallet_row(user) -> tuple[int, int]:
    if user is None or not user.is_authenticated:
        return 0, 0
    row = Account.objects.filter(kind=AccountKind.WALLET, user=user).values_list("balance", "held").first()
    return row or (0, 0)


@dataclass(frozen=True)
class WalletTokens:
    balance: int
    held: int

    @property
    def available(self) -> int:
        return self.balance - self.held


def wallet_tokens(user) -> WalletTokens:
    """Balance, held and available tokens from one read of the wallet row
    (a page that shows all three reads the row once, not three times)."""
    return WalletTokens(*_wallet_row(user))


def held_tokens(user) -> int:
    """Tokens reserved by ``user``'s open holds (e.g. a private show in progress)."""
    return _wallet_row(user)[1]


def available_tokens(user) -> int:
    """Tokens ``user`` can spend now: the wallet balance minus what holds reserve."""
    balance, held = _wallet_row(user)
    return balance - held


def wallet_history(user, limit: int = 50):
    """Wallet entries, newest first, with their transfer (kind, performer, created_at)."""
    return (
        Entry.objects.filter(account__kind=AccountKind.WALLET, account__user=user)
        .select_related("transfer", "transfer__performer__user")
        .order_by("-created_at", "-pk")[:limit]
    )


def platform_total(kind: str, unit: str) -> int:
    """A platform account's balance summed over its shards (see ``services.platform``)."""
    return (
        Account.objects.filter(kind=kind, unit=unit, user=None, performer=None).aggregate(total=Sum("balance"))["total"]
        or 0
    )


def performer_balances(performer) -> dict[str, int]:
    """Cents per earnings account: pending, available, payouts in flight."""
    result = {
        AccountKind.PERFORMER_PENDING.value: 0,
        AccountKind.PERFORMER_AVAILABLE.value: 0,
        AccountKind.PAYOUTS_IN_FLIGHT.value: 0,
    }
    for kind, balance in Account.objects.filter(performer=performer).values_list("kind", "balance"):
        result[kind] = balance
    return result


def earnings_transfers(performer, *, since=None, until=None):
    """Transfers that earned ``performer`` money (tips, tickets, subscriptions,
    private shows, content), with refunds/chargebacks of them, in a time range.

    Each row has ``kind``, ``created_at``, ``gross_cents`` (what the supporter
    paid), ``performer_cents`` (the performer's share; fee = gross − share),
    ``available_at`` and ``user`` (the supporter).  Reversals carry the amounts
    they undo: subtract them."""
    rows = Transfer.objects.filter(performer=performer).filter(
        Q(kind__in=[k.value for k in EARNING_KINDS]) | Q(kind__in=["refund", "chargeback"])
    )
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if until is not None:
        rows = rows.filter(created_at__lt=until)
    return rows.select_related("user", "related").order_by("created_at")


@dataclass
class CheckReport:
    problems: list[str] = field(default_factory=list)
    transfers: int = 0
    accounts: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def check_invariants() -> CheckReport:
    """Every ledger invariant, checked from the rows themselves."""
    report = CheckReport(transfers=Transfer.objects.count(), accounts=Account.objects.count())
    for unit_row in Entry.objects.values("unit").annotate(total=Sum("amount")):
        if unit_row["total"]:
            report.problems.append(f"entries in {unit_row['unit']} sum to {unit_row['total']}, not 0")
    unbalanced = (
        Entry.objects.values("transfer_id", "unit").annotate(total=Sum("amount")).exclude(total=0).order_by()[:20]
    )
    for row in unbalanced:
        report.problems.append(f"transfer {row['transfer_id']} {row['unit']} entries sum to {row['total']}")
    empty = Transfer.objects.filter(entries__isnull=True).values_list("pk", flat=True)[:20]
    for pk in empty:
        report.problems.append(f"transfer {pk} has no entries")
    # Coalesce: an account without entries sums to 0, not NULL (NULL = balance
    # is never true, so exclude() would hide a balance no entry explains).
    mismatched = (
        Account.objects.annotate(entry_sum=Coalesce(Sum("entries__amount"), 0))
        .exclude(entry_sum=F("balance"))
        .values_list("code", "balance", "entry_sum")[:50]
    )
    for code, balance, entry_sum in mismatched:
        report.problems.append(f"account {code}: stored balance {balance} != sum of entries {entry_sum}")
    for code, balance in Account.objects.filter(allow_negative=False, balance__lt=0).values_list("code", "balance"):
        report.problems.append(f"account {code} is negative: {balance}")
    _check_holds(report)
    wrong_unit = Entry.objects.exclude(unit=F("account__unit")).values_list("pk", flat=True)[:20]
    for pk in wrong_unit:
        report.problems.append(f"entry {pk} unit differs from its account's")
    return report


def _check_holds(report: CheckReport) -> None:
    """Each account's ``held`` is the sum of its open holds' remainders; no hold
    is posted beyond its amount; each hold's ``posted`` is what its transfers
    took from its account; no account spends into its reserved tokens."""
    open_remainders = Subquery(
        Hold.objects.filter(account=OuterRef("pk"), status=Hold.Status.PENDING)
        .values("account")
        .annotate(total=Sum(F("amount") - F("posted")))
        .values("total")
    )
    wrong_held = (
        Account.objects.annotate(expected=Coalesce(open_remainders, Value(0)))
        .exclude(held=F("expected"))
        .values_list("code", "held", "expected")[:50]
    )
    for code, held, expected in wrong_held:
        report.problems.append(f"account {code}: held {held} != open holds' remainders {expected}")
    for code, balance, held in Account.objects.filter(allow_negative=False, balance__lt=F("held")).values_list(
        "code", "balance", "held"
    ):
        report.problems.append(f"account {code}: balance {balance} is below its held {held}")
    for pk, posted, amount in Hold.objects.filter(Q(posted__gt=F("amount")) | Q(posted__lt=0)).values_list(
        "pk", "posted", "amount"
    )[:20]:
        report.problems.append(f"hold {pk} posted {posted} of {amount}")
    spent = Subquery(
        Entry.objects.filter(transfer__hold=OuterRef("pk"), account=OuterRef("account"))
        .values("transfer__hold")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    mismatched = (
        Hold.objects.annotate(spent=Coalesce(spent, Value(0)))
        .exclude(posted=-F("spent"))
        .values_list("pk", "posted", "spent")[:20]
    )
    for pk, posted, spent_total in mismatched:
        report.problems.append(f"hold {pk}: posted {posted} != {-spent_total} taken by its transfers")
    wrong_status = Hold.objects.filter(
        Q(status=Hold.Status.POSTED) & ~Q(posted=F("amount")) | ~Q(status=Hold.Status.PENDING) & Q(closed_at=None)
    ).values_list("pk", flat=True)[:20]
    for pk in wrong_status:
        report.problems.append(f"hold {pk}: status does not match its amounts")

"""The one money path: every movement of tokens or cents on the platform.

Token and cash sales (token packs, tickets, privates, subscriptions), token
spending (tips, content sets), reversals (refunds, chargebacks, cancelled
shows), earnings releases and payouts are each built here, once, from the
prices module's rules (share, token value) and posted through
``marquee.ledger.services``.  Why a module of its own rather than the rest of
``billing/services.py``: the services there and in ``content`` decide *whether*
and *when* (checkout, webhooks, permissions, state of purchases); this module
decides only *what moves where*, so there is exactly one copy of each
movement to read, test and mutate.

Every function runs inside the caller's transaction (the caller writes the
audit row and the business row in the same one), is idempotent on the key it
is given or builds, and raises ``NotEnoughTokens`` when a wallet cannot pay.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from marquee.billing import prices, tip_goals
from marquee.billing.errors import BillingError
from marquee.ledger.holds import extend_hold, place_hold, post_from_hold, void_hold
from marquee.ledger.models import AccountKind, Hold, Transfer, TransferKind
from marquee.ledger.services import (
    InsufficientFunds,
    Movement,
    Posting,
    performer_earnings,
    platform,
    post_transfer,
    prepare_transfer,
    reverse_transfer,
    wallet,
)
from marquee.lib.fields import clip

# Transfers that create performer earnings held until ``available_at``.
SALE_KINDS = {
    "ticket": TransferKind.TICKET,
    "private": TransferKind.PRIVATE,
    "subscription": TransferKind.SUBSCRIPTION,
}
REVERSAL_KINDS = (TransferKind.REFUND, TransferKind.CHARGEBACK)


class NotEnoughTokens(BillingError):
    def __init__(self, code="insufficient_tokens", message="Not enough tokens in your wallet.", status=402, **extra):
        super().__init__(code, message, status, **extra)


def hold_until(now: datetime.datetime) -> datetime.datetime:
    """Earnings stay pending this long (refund and chargeback window)."""
    return now + datetime.timedelta(days=settings.EARNINGS_HOLD_DAYS)


def purchase_key(purchase) -> str:
    return f"purchase:{purchase.pk}"


def tip_key(user, client_key: str) -> str:
    """A client's idempotency key is only unique for that client: scope it to
    the user, so two users sending the same key each tip once."""
    return clip(f"tip:{user.pk}:{client_key}", Transfer, "idempotency_key")


def content_key(user, media_set) -> str:
    return f"content:{media_set.pk}:user:{user.pk}"


def existing(idempotency_key: str) -> Transfer | None:
    return Transfer.objects.filter(idempotency_key=idempotency_key).first()


# --- cash in --------------------------------------------------------------------


def book_token_pack(*, purchase) -> Transfer:
    """A paid token pack: tokens into the wallet, the cash into the token float."""
    transfer, _ = post_transfer(
        kind=TransferKind.TOKEN_PURCHASE,
        idempotency_key=purchase_key(purchase),
        movements=[
            Movement(platform(AccountKind.TOKEN_SUPPLY), -purchase.tokens),
            Movement(wallet(purchase.user), purchase.tokens),
            Movement(platform(AccountKind.PROVIDER_CLEARING, provider=purchase.provider), -purchase.amount_cents),
            Movement(platform(AccountKind.TOKEN_FLOAT), purchase.amount_cents),
        ],
        user=purchase.user,
        source_type="billing.purchase",
        source_id=purchase.pk,
        gross_cents=purchase.amount_cents,
        memo=purchase.description,
    )
    return transfer


def book_sale(*, purchase, now=None) -> Transfer:
    """A paid ticket, private show or subscription period: the performer's
    share into pending earnings (held), the rest to platform fees."""
    now = now or timezone.now()
    gross = purchase.amount_cents
    share, fee = prices.split(gross)
    transfer, _ = post_transfer(
        kind=SALE_KINDS[purchase.product],
        idempotency_key=purchase_key(purchase),
        movements=[
            Movement(platform(AccountKind.PROVIDER_CLEARING, provider=purchase.provider), -gross),
            Movement(performer_earnings(purchase.performer, AccountKind.PERFORMER_PENDING), share),
            Movement(platform(AccountKind.PLATFORM_FEES), fee),
        ],
        user=purchase.user,
        performer=purchase.performer,
        source_type="billing.purchase",
        source_id=purchase.pk,
        available_at=hold_until(now),
        gross_cents=gross,
        performer_cents=share,
        memo=purchase.description,
    )
    return transfer


def book_purchase(*, purchase, now=None) -> Transfer:
    if purchase.product == "tokens":
        return book_token_pack(purchase=purchase)
    return book_sale(purchase=purchase, now=now)


# --- tokens spent -------------------------------------------------------------------


def spend_tokens(
    *,
    kind: str,
    user,
    performer,
    tokens: int,
    idempotency_key: str,
    source_type: str,
    source_id="",
    memo: str = "",
) -> tuple[Transfer, bool]:
    """Tokens from ``user``'s wallet to ``performer`` (a tip or a content set):
    the tokens go back to the supply, their cash value leaves the token float
    and is split into the performer's pending earnings and the platform fee.

    Returns ``(transfer, created)``; a repeated key moves nothing.  A
    *concurrent* duplicate returns the winner on PostgreSQL (see
    ``ledger.services.post_transfer``); on SQLite it raises ``IntegrityError``
    (the caller's atomic block rolls back; ``existing(key)`` then finds it)."""
    posting = prepare_spend(
        kind=kind,
        user=user,
        performer=performer,
        tokens=tokens,
        idempotency_key=idempotency_key,
        source_type=source_type,
        source_id=source_id,
        memo=memo,
    )
    settle(posting)
    return posting.transfer, posting.created


def prepare_spend(
    *,
    kind: str,
    user,
    performer,
    tokens: int,
    idempotency_key: str,
    source_type: str,
    source_id="",
    memo: str = "",
    then: tuple[str, list] | None = None,
) -> Posting:
    """``spend_tokens`` with the balance updates left to ``settle(posting)``,
    which the caller runs last in its transaction (the tip path: the hot
    earnings row stays locked only for that statement and the commit).
    ``then``: the caller's row written with the transfer's (PostgreSQL; see
    ``ledger.services.prepare_transfer``), its RETURNING row in
    ``posting.then_row``."""
    if kind not in (TransferKind.TIP, TransferKind.CONTENT):
        raise ValueError(f"not a token spend: {kind}")
    value, share, credits = _spend_credits(user, performer, tokens)
    return prepare_transfer(
        kind=kind,
        idempotency_key=idempotency_key,
        movements=[Movement(wallet(user), -tokens), *credits],
        user=user,
        performer=performer,
        source_type=source_type,
        source_id=source_id,
        available_at=hold_until(timezone.now()),
        gross_cents=value,
        performer_cents=share,
        memo=clip(memo, Transfer, "memo"),
        then=then,
    )


def settle(posting: Posting) -> None:
    """Apply a prepared spend's balances; ``NotEnoughTokens`` if the wallet can't pay."""
    try:
        posting.apply()
    except InsufficientFunds:
        raise NotEnoughTokens() from None


def settle_then(posting: Posting, sql: str, params) -> tuple:
    """``settle`` and the caller's statement in the same round trip, after the
    balances (PostgreSQL: ``Posting.apply_then``)."""
    try:
        return posting.apply_then(sql, params)
    except InsufficientFunds:
        raise NotEnoughTokens() from None


def _spend_credits(user, performer, tokens: int) -> tuple[int, int, list[Movement]]:
    """Where spent tokens go (tips, content, private periods): back to the
    supply; their cash value out of the token float, split into the
    performer's pending earnings and the platform fee."""
    value = prices.token_value_cents(tokens)
    share, fee = prices.split(value)
    shard = user.pk  # hot platform rows are sharded so concurrent spends don't queue on one lock
    return (
        value,
        share,
        [
            Movement(platform(AccountKind.TOKEN_SUPPLY, shard=shard), tokens),
            Movement(platform(AccountKind.TOKEN_FLOAT, shard=shard), -value),
            Movement(performer_earnings(performer, AccountKind.PERFORMER_PENDING), share),
            Movement(platform(AccountKind.PLATFORM_FEES, shard=shard), fee),
        ],
    )


# --- tokens held (private, spy and group shows) ------------------------------------------


def hold_tokens(*, user, tokens: int, idempotency_key: str, source_type: str, source_id) -> Hold:
    """Reserve ``tokens`` of ``user``'s wallet (idempotent by key); raises
    ``NotEnoughTokens`` when the available balance (balance − held) is short."""
    try:
        hold, _ = place_hold(
            account=wallet(user),
            amount=tokens,
            idempotency_key=idempotency_key,
            source_type=source_type,
            source_id=source_id,
        )
    except InsufficientFunds:
        raise NotEnoughTokens() from None
    return hold


def extend_tokens_hold(*, hold: Hold, to_tokens: int) -> Hold:
    """Raise the hold to ``to_tokens`` (no-op if there); ``NotEnoughTokens``, nothing changed."""
    try:
        return extend_hold(hold=hold, to_amount=to_tokens)
    except InsufficientFunds:
        raise NotEnoughTokens() from None


def spend_held_tokens(
    *,
    hold: Hold,
    user,
    performer,
    tokens: int,
    idempotency_key: str,
    source_type: str,
    source_id,
    now,
    memo: str = "",
    reserve_to: int | None = None,
) -> tuple[Transfer, bool]:
    """Post ``tokens`` from the hold to the performer, as a tip's tokens go
    (a ``private`` transfer; earnings pending like a tip's).  Idempotent by key.

    ``reserve_to``: in the same statements the hold grows to this total when
    the wallet can afford it, else to what this posting needs; when even that
    is short, ``NotEnoughTokens`` with nothing written (the caller's
    transaction goes on).  ``hold`` is refreshed in place."""
    value, share, credits = _spend_credits(user, performer, tokens)
    try:
        return post_from_hold(
            hold=hold,
            amount=tokens,
            idempotency_key=idempotency_key,
            credits=credits,
            kind=TransferKind.PRIVATE,
            user=user,
            performer=performer,
            source_type=source_type,
            source_id=source_id,
            gross_cents=value,
            performer_cents=share,
            available_at=hold_until(now),
            memo=clip(memo, Transfer, "memo"),
            extend_to=reserve_to,
        )
    except InsufficientFunds:
        raise NotEnoughTokens() from None


def release_hold(*, hold: Hold) -> tuple[Hold, bool]:
    """Void what is left of the hold, exactly once: ``(hold, closed_now)``."""
    return void_hold(hold=hold)


def forfeit_tokens(*, user, tokens: int, idempotency_key: str) -> tuple[Transfer, bool]:
    """Unspent tokens of a closed account are written off (stated policy in
    docs/privacy.md: tokens are not refundable): they go back to the supply
    and their cash value leaves the token float for the named
    ``forfeited_tokens`` account, so nothing disappears silently."""
    if tokens <= 0:
        raise ValueError("nothing to forfeit")
    value = prices.token_value_cents(tokens)
    try:
        return post_transfer(
            kind=TransferKind.FORFEIT,
            idempotency_key=idempotency_key,
            movements=[
                Movement(wallet(user), -tokens),
                Movement(platform(AccountKind.TOKEN_SUPPLY), tokens),
                Movement(platform(AccountKind.TOKEN_FLOAT), -value),
                Movement(platform(AccountKind.FORFEITED_TOKENS), value),
            ],
            user=user,
            source_type="accounts.user",
            source_id=user.pk,
            gross_cents=value,
        )
    except InsufficientFunds:
        raise NotEnoughTokens() from None


# --- reversals ------------------------------------------------------------------------


def reverse(*, original: Transfer, kind: str, idempotency_key: str, memo: str = "") -> tuple[Transfer, bool]:
    """Refund or chargeback of ``original``: what it paid in is taken back,
    clawing back performer earnings (pending, then available) and booking
    what is gone to the loss account.  At most one reversal per original."""
    if kind not in REVERSAL_KINDS:
        raise ValueError(f"not a reversal: {kind}")
    with transaction.atomic():
        reversal, created = reverse_transfer(original=original, kind=kind, idempotency_key=idempotency_key, memo=memo)
        if created and original.kind == TransferKind.TIP:
            tip_goals.take_back(original)  # after the balances: the tip path's lock order
    return reversal, created


def reverse_purchase_money(*, purchase, kind: str) -> Transfer:
    original = Transfer.objects.get(idempotency_key=purchase_key(purchase))
    transfer, _ = reverse(original=original, kind=kind, idempotency_key=f"{kind}:purchase:{purchase.pk}")
    return transfer


# --- earnings and payouts -----------------------------------------------------------


def releasable_earnings(now):
    """Earnings whose hold is over and that were neither released nor reversed."""
    return (
        Transfer.objects.filter(
            kind__in=[TransferKind.TIP, *SALE_KINDS.values(), TransferKind.CONTENT],
            available_at__lte=now,
            performer__isnull=False,
            performer_cents__gt=0,
        )
        .exclude(followups__kind__in=[TransferKind.RELEASE, *REVERSAL_KINDS])
        .select_related("performer")
        .order_by("pk")
    )


def release(*, earning: Transfer) -> bool:
    """Pending → available for one earning; False if already released or if
    a clawback left nothing to release."""
    performer = earning.performer
    try:
        _, created = post_transfer(
            kind=TransferKind.RELEASE,
            idempotency_key=f"release:{earning.pk}",
            movements=[
                Movement(performer_earnings(performer, AccountKind.PERFORMER_PENDING), -earning.performer_cents),
                Movement(performer_earnings(performer, AccountKind.PERFORMER_AVAILABLE), earning.performer_cents),
            ],
            performer=performer,
            related=earning,
            source_type=earning.source_type,
            source_id=earning.source_id,
            performer_cents=earning.performer_cents,
        )
    except InsufficientFunds:
        return False
    return created


def payout_requested(*, payout) -> Transfer:
    """Available earnings → payouts in flight; raises ``InsufficientFunds``."""
    transfer, _ = post_transfer(
        kind=TransferKind.PAYOUT,
        idempotency_key=f"payout:{payout.pk}",
        movements=[
            Movement(performer_earnings(payout.performer, AccountKind.PERFORMER_AVAILABLE), -payout.amount_cents),
            Movement(performer_earnings(payout.performer, AccountKind.PAYOUTS_IN_FLIGHT), payout.amount_cents),
        ],
        performer=payout.performer,
        source_type="billing.payout",
        source_id=payout.pk,
    )
    return transfer


def payout_settled(*, payout, paid: bool) -> Transfer:
    """In flight → sent (paid) or back to available (failed)."""
    target = (
        platform(AccountKind.PAYOUTS_SENT)
        if paid
        else performer_earnings(payout.performer, AccountKind.PERFORMER_AVAILABLE)
    )
    transfer, _ = post_transfer(
        kind=TransferKind.PAYOUT_PAID if paid else TransferKind.PAYOUT_FAILED,
        idempotency_key=f"payout:{payout.pk}:{'paid' if paid else 'failed'}",
        movements=[
            Movement(performer_earnings(payout.performer, AccountKind.PAYOUTS_IN_FLIGHT), -payout.amount_cents),
            Movement(target, payout.amount_cents),
        ],
        performer=payout.performer,
        source_type="billing.payout",
        source_id=payout.pk,
    )
    return transfer

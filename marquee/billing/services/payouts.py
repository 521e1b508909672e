"""Earnings release (pending → available) and payouts."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from marquee.audit.services import record_audit
from marquee.billing import money, prices
from marquee.billing.errors import BillingError
from marquee.billing.models import Payout
from marquee.billing.services.checkout import _require_can_earn
from marquee.ledger.services import InsufficientFunds
from marquee.lib.fields import clip


def release_due_earnings(*, now=None) -> int:
    """Pending → available for earnings whose hold (``EARNINGS_HOLD_DAYS``) is
    over, unless refunded or charged back.  Returns how many were released;
    safe to run often."""
    now = now or timezone.now()
    released = 0
    for earning in money.releasable_earnings(now)[:1000]:
        with transaction.atomic():
            if money.release(earning=earning):
                record_audit(
                    action="billing.earnings_released", target=earning, details={"cents": earning.performer_cents}
                )
                released += 1
    return released


def request_payout(*, user, amount_cents: int, request=None) -> Payout:
    from marquee.accounts.selectors import TwoFactorRequired, require_two_factor

    performer = getattr(user, "performer", None)
    if performer is None:
        raise BillingError("not_a_performer", "Only performers can request payouts.", 403)
    _require_can_earn(performer)
    try:
        require_two_factor(user)
    except TwoFactorRequired as exc:
        raise BillingError("two_factor_required", str(exc), 403)
    prices.check_payout_cents(amount_cents)
    try:
        with transaction.atomic():
            payout = Payout.objects.create(performer=performer, amount_cents=amount_cents)
            money.payout_requested(payout=payout)
            record_audit(
                action="billing.payout_requested",
                actor=user,
                request=request,
                target=payout,
                details={"cents": amount_cents},
            )
    except InsufficientFunds:
        raise BillingError("insufficient_earnings", "That is more than your available earnings.", 409)
    return payout


def settle_payout(*, payout: Payout, paid: bool, rail_reference: str = "", actor=None) -> Payout:
    """The payout rail reports back: paid (money left) or failed (back to available)."""
    status = Payout.Status.PAID if paid else Payout.Status.FAILED
    with transaction.atomic():
        if not Payout.objects.filter(pk=payout.pk, status=Payout.Status.REQUESTED).update(
            status=status, rail_reference=clip(rail_reference, Payout, "rail_reference"), settled_at=timezone.now()
        ):
            raise BillingError("already_settled", "This payout is already settled.", 409)
        money.payout_settled(payout=payout, paid=paid)
        record_audit(
            action=f"billing.payout_{status}", actor=actor, target=payout, details={"reference": rail_reference}
        )
    payout.refresh_from_db()
    return payout

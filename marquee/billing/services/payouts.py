"""Earnings release (pending → available), payouts and payout settings."""

from __future__ import annotations

import datetime
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from marquee.audit.services import record_audit
from marquee.billing import money, prices
from marquee.billing.errors import BillingError
from marquee.billing.models import Payout, PayoutSettings
from marquee.billing.services.checkout import _require_can_earn
from marquee.ledger import selectors as ledger_selectors
from marquee.ledger.services import InsufficientFunds
from marquee.lib.fields import clip

logger = logging.getLogger(__name__)


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


def _performer_of(user):
    performer = getattr(user, "performer", None) if hasattr(user, "performer") else None
    if performer is None:
        raise BillingError("not_a_performer", "Only performers can request payouts.", 403)
    return performer


def _create_payout(*, performer, amount_cents: int, actor, request=None, period: str = "") -> Payout:
    """The one way a payout is made (by hand or on schedule): a performer who
    may earn, with two-factor on, an amount the platform pays out, from
    available earnings."""
    from marquee.accounts.selectors import TwoFactorRequired, require_two_factor

    _require_can_earn(performer)
    try:
        require_two_factor(performer.user)
    except TwoFactorRequired as exc:
        raise BillingError("two_factor_required", str(exc), 403)
    prices.check_payout_cents(amount_cents)
    saved = PayoutSettings.objects.filter(performer=performer).values_list("method", flat=True).first()
    try:
        with transaction.atomic():
            payout = Payout.objects.create(
                performer=performer, amount_cents=amount_cents, period=period, method=saved or ""
            )
            money.payout_requested(payout=payout)
            details = {"cents": amount_cents}
            if period:
                details["period"] = period
            record_audit(
                action="billing.payout_requested", actor=actor, request=request, target=payout, details=details
            )
    except InsufficientFunds:
        raise BillingError("insufficient_earnings", "That is more than your available earnings.", 409)
    return payout


def request_payout(*, user, amount_cents: int, request=None) -> Payout:
    return _create_payout(performer=_performer_of(user), amount_cents=amount_cents, actor=user, request=request)


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


# --- payout settings and scheduled payouts -------------------------------------------


def update_payout_settings(*, user, method: str, minimum_cents: int, schedule: str, request=None) -> PayoutSettings:
    performer = _performer_of(user)
    prices.check_payout_settings(method=method, minimum_cents=minimum_cents, schedule=schedule)
    with transaction.atomic():
        saved, _ = PayoutSettings.objects.update_or_create(
            performer=performer, defaults={"method": method, "minimum_cents": minimum_cents, "schedule": schedule}
        )
        record_audit(
            action="billing.payout_settings_changed",
            actor=user,
            request=request,
            target=performer,
            details={"method": method, "minimum_cents": minimum_cents, "schedule": schedule},
        )
    return saved


def payout_period(schedule: str, now: datetime.datetime) -> str:
    """The period a scheduled payout pays for (UTC): ISO week or month; "" for manual."""
    now = now.astimezone(datetime.UTC)
    if schedule == PayoutSettings.Schedule.WEEKLY:
        year, week, _ = now.isocalendar()
        return f"{year}-W{week:02d}"
    if schedule == PayoutSettings.Schedule.MONTHLY:
        return f"{now:%Y-%m}"
    return ""


def request_scheduled_payouts(*, now=None) -> int:
    """For every performer on a weekly or monthly schedule with no payout yet
    this period: pay out the whole available balance once it reaches their
    minimum.  Idempotent per period (unique performer + period in the
    database); a performer who may not be paid (unverified, suspended, no
    2FA) is skipped.  Returns how many payouts were requested."""
    now = now or timezone.now()
    made = 0
    due = PayoutSettings.objects.exclude(schedule=PayoutSettings.Schedule.MANUAL).select_related("performer__user")
    for saved in due.iterator():
        period = payout_period(saved.schedule, now)
        performer = saved.performer
        if Payout.objects.filter(performer=performer, period=period).exists():
            continue
        available = ledger_selectors.performer_balances(performer)["performer_available"]
        if available < max(saved.minimum_cents, prices.default_payout_minimum_cents()):
            continue
        try:
            _create_payout(performer=performer, amount_cents=available, actor=None, period=period)
        except BillingError as exc:
            logger.info("scheduled payout for performer %s skipped: %s", performer.pk, exc.code)
            continue
        except IntegrityError:
            continue  # another worker paid this period first
        made += 1
    return made

"""Every write of the money capability: checkout, webhook effects, tips,
subscriptions, refunds/chargebacks, earnings release and payouts."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.db.models.functions import Greatest
from django.template.loader import render_to_string
from django.utils import timezone

from marquee.billing.gateways import CheckoutRequest, EventType, NormalizedEvent, get_gateway
from marquee.billing.models import Payout, Product, Purchase, Subscription, Tip, WebhookEvent
from marquee.compliance import policy
from marquee.compliance.services import record_audit
from marquee.ledger.models import AccountKind, Transfer, TransferKind
from marquee.ledger.services import (
    InsufficientFunds,
    Movement,
    performer_account,
    performer_earnings,
    platform_account,
    post_transfer,
    provider_account,
    reverse_transfer,
    wallet_account,
)
from marquee.ledger.services import platform as ledger_platform
from marquee.ledger.services import wallet as ledger_wallet
from marquee.lib.errors import DomainError
from marquee.lib.events import send_room_event, send_user_event
from marquee.performers.models import ShowKind
from marquee.recommendations import tracking

logger = logging.getLogger(__name__)


class BillingError(DomainError):
    """A refused request: ``code`` and ``message`` for the user, ``status`` for HTTP."""


def split(gross_cents: int) -> tuple[int, int]:
    """(performer share, platform fee); they always add up to the gross."""
    share = gross_cents * settings.PERFORMER_SHARE_PERCENT // 100
    return share, gross_cents - share


def _hold_until(now):
    return now + datetime.timedelta(days=settings.EARNINGS_HOLD_DAYS)


# --- checkout ---------------------------------------------------------------


def check_price(cents: int) -> None:
    """Platform price limits: performers' settings forms validate with this,
    and checkout refuses a price outside them (a price shown is the price charged)."""
    if not isinstance(cents, int) or not settings.PRICE_MIN_CENTS <= cents <= settings.PRICE_MAX_CENTS:
        raise BillingError(
            "price_out_of_range",
            f"Prices must be between ${settings.PRICE_MIN_CENTS / 100:.2f} and ${settings.PRICE_MAX_CENTS / 100:.2f}.",
            409,
        )


def _describe(*, user, product, pack, show, performer) -> dict:
    """What is bought, at which price (the price shown is the price charged)."""
    from marquee.billing import selectors

    if product == Product.TOKENS:
        item = settings.TOKEN_PACKS.get(pack)
        if item is None:
            raise BillingError("unknown_pack", "No such token pack.")
        return {"amount_cents": item["price_cents"], "tokens": item["tokens"], "description": item["label"]}
    if product in (Product.TICKET, Product.PRIVATE):
        if show is None:
            raise BillingError("show_required", "Which show?")
        wanted_kind = ShowKind.PREMIUM if product == Product.TICKET else ShowKind.PRIVATE
        if show.kind != wanted_kind or show.status not in ("scheduled", "live"):
            raise BillingError("not_for_sale", "This show has no tickets for sale.", 409)
        if show.performer.user_id == user.pk:
            raise BillingError("own_show", "You cannot buy your own show.", 409)
        if selectors.has_show_ticket(user, show):
            raise BillingError("already_owned", "You already have access to this show.", 409)
        price = show.price_cents if product == Product.TICKET else show.performer.private_show_price_cents
        check_price(price)
        label = "Ticket" if product == Product.TICKET else "Private show"
        return {
            "amount_cents": price,
            "description": f"{label}: {show.title} ({show.performer.display_name})",
            "performer": show.performer,
            "show": show,
        }
    if product == Product.SUBSCRIPTION:
        if performer is None or not performer.is_verified:
            raise BillingError("not_for_sale", "This performer has no fan club.", 409)
        if performer.user_id == user.pk:
            raise BillingError("own_club", "You cannot subscribe to yourself.", 409)
        if selectors.has_active_subscription(user, performer):
            raise BillingError("already_owned", "You are already subscribed.", 409)
        check_price(performer.subscription_price_cents)
        return {
            "amount_cents": performer.subscription_price_cents,
            "description": f"Fan club: {performer.display_name} (monthly)",
            "performer": performer,
        }
    raise BillingError("unknown_product", "Unknown product.")


def start_checkout(
    *,
    user,
    location,
    product: str,
    pack: str = "",
    show=None,
    performer=None,
    return_url: str = "",
    success_url_for,
    provider: str = "",
    request=None,
) -> tuple[Purchase, str]:
    """Create a pending purchase and the provider's hosted page; returns
    ``(purchase, url)``.  ``success_url_for(purchase)`` builds the absolute
    return URL.  Nothing is charged or granted here: only the webhook does."""
    allowed = policy.can_purchase(user, location)
    if not allowed:
        raise BillingError(allowed.code, allowed.message, allowed.status)
    if performer is not None and not policy.can_view_performer(user, performer, location):
        raise BillingError("not_found", "This room does not exist.", 404)
    if show is not None and not policy.can_view_performer(user, show.performer, location):
        raise BillingError("not_found", "This room does not exist.", 404)
    gateway = get_gateway(provider or settings.PAYMENT_PROVIDER)
    item = _describe(user=user, product=product, pack=pack, show=show, performer=performer)
    with transaction.atomic():
        purchase = Purchase.objects.create(
            user=user,
            product=product,
            provider=gateway.name,
            amount_cents=item["amount_cents"],
            tokens=item.get("tokens", 0),
            pack=pack if product == Product.TOKENS else "",
            description=item["description"],
            performer=item.get("performer"),
            show=item.get("show"),
            return_url=return_url[:300],
        )
        record_audit(
            action="billing.checkout_started",
            actor=user,
            request=request,
            target=purchase,
            details={"product": product, "amount_cents": purchase.amount_cents, "provider": gateway.name},
        )
    success_url = success_url_for(purchase)
    session = gateway.start_checkout(
        CheckoutRequest(
            purchase_reference=str(purchase.reference),
            description=purchase.description,
            amount_cents=purchase.amount_cents,
            currency=purchase.currency,
            recurring=product == Product.SUBSCRIPTION,
            success_url=success_url,
            cancel_url=success_url,
            customer_email=user.email,
        )
    )
    if session.provider_reference:
        Purchase.objects.filter(pk=purchase.pk, provider_reference="").update(
            provider_reference=session.provider_reference
        )
    return purchase, session.url


# --- webhooks ----------------------------------------------------------------


def process_webhook(*, provider: str, body: bytes, headers, client_ip: str = "") -> list[str]:
    """Verify ``body`` with the provider's scheme, then for each event: insert
    it (unique per provider) and apply its effect in the same transaction,
    only when newly inserted.  Raises ``WebhookRejected`` (→ 400, nothing
    written) or ``GatewayNotConfigured``."""
    gateway = get_gateway(provider)
    outcomes = []
    for event in gateway.parse_webhook(body=body, headers=headers, client_ip=client_ip):
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = WebhookEvent.objects.create(
                        provider=provider,
                        event_id=event.event_id,
                        event_type=event.raw_type[:80],
                        payload=event.payload,
                    )
            except IntegrityError:
                outcomes.append("duplicate")
                continue
            outcome = apply_event(provider=provider, event=event)
            WebhookEvent.objects.filter(pk=record.pk).update(outcome=outcome[:200])
            outcomes.append(outcome)
    return outcomes


def _find_purchase(provider: str, event: NormalizedEvent) -> Purchase | None:
    rows = Purchase.objects.select_related("performer__user", "show", "user", "subscription")
    if event.purchase_reference:
        purchase = (
            rows.filter(provider=provider, reference__iexact=event.purchase_reference).first()
            if _is_uuid(event.purchase_reference)
            else None
        )
        if purchase is not None:
            return purchase
    if event.payment_reference:
        return rows.filter(provider=provider, provider_reference=event.payment_reference).first()
    return None


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def apply_event(*, provider: str, event: NormalizedEvent) -> str:
    """The effect of one normalized event; returns a short outcome for the log."""
    if event.type == EventType.PAYMENT_SUCCEEDED:
        purchase = _find_purchase(provider, event)
        if purchase is None:
            return "ignored: unknown purchase"
        if event.amount_cents is not None and event.amount_cents != purchase.amount_cents:
            record_audit(action="billing.amount_mismatch", target=purchase, details={"paid": event.amount_cents})
            return "ignored: amount differs from the price"
        return fulfil_purchase(
            purchase=purchase, payment_reference=event.payment_reference, subscription_id=event.subscription_id
        )
    if event.type == EventType.PAYMENT_FAILED:
        purchase = _find_purchase(provider, event)
        if purchase is None:
            return "ignored: unknown purchase"
        changed = Purchase.objects.filter(pk=purchase.pk, status=Purchase.Status.PENDING).update(
            status=Purchase.Status.DECLINED
        )
        return "declined" if changed else "ignored: not pending"
    if event.type in (EventType.SUBSCRIPTION_RENEWED, EventType.SUBSCRIPTION_PAST_DUE, EventType.SUBSCRIPTION_ENDED):
        subscription = Subscription.objects.filter(
            provider=provider, provider_subscription_id=event.subscription_id
        ).first()
        if subscription is None:
            return "ignored: unknown subscription"
        if event.type == EventType.SUBSCRIPTION_RENEWED:
            return renew_subscription(subscription=subscription, event=event)
        if event.type == EventType.SUBSCRIPTION_PAST_DUE:
            return mark_subscription_past_due(subscription=subscription)
        return end_subscription(subscription=subscription, reason=event.raw_type)
    if event.type in (EventType.REFUNDED, EventType.CHARGEBACK):
        purchase = _find_purchase(provider, event)
        if purchase is None:
            return "ignored: unknown purchase"
        kind = TransferKind.REFUND if event.type == EventType.REFUNDED else TransferKind.CHARGEBACK
        return reverse_purchase(purchase=purchase, kind=kind)
    return f"ignored: unhandled type {event.raw_type}"


def _sale_movements(provider: str, performer, gross: int) -> tuple[list[Movement], int]:
    share, fee = split(gross)
    return [
        Movement(provider_account(provider), -gross),
        Movement(performer_account(performer, AccountKind.PERFORMER_PENDING), share),
        Movement(platform_account(AccountKind.PLATFORM_FEES), fee),
    ], share


def _book_purchase(purchase: Purchase, now) -> Transfer:
    if purchase.product == Product.TOKENS:
        transfer, _ = post_transfer(
            kind=TransferKind.TOKEN_PURCHASE,
            idempotency_key=f"purchase:{purchase.pk}",
            movements=[
                Movement(platform_account(AccountKind.TOKEN_SUPPLY), -purchase.tokens),
                Movement(wallet_account(purchase.user), purchase.tokens),
                Movement(provider_account(purchase.provider), -purchase.amount_cents),
                Movement(platform_account(AccountKind.TOKEN_FLOAT), purchase.amount_cents),
            ],
            user=purchase.user,
            source_type="billing.purchase",
            source_id=purchase.pk,
            gross_cents=purchase.amount_cents,
            memo=purchase.description,
        )
        return transfer
    movements, share = _sale_movements(purchase.provider, purchase.performer, purchase.amount_cents)
    transfer, _ = post_transfer(
        kind={
            Product.TICKET: TransferKind.TICKET,
            Product.PRIVATE: TransferKind.PRIVATE,
            Product.SUBSCRIPTION: TransferKind.SUBSCRIPTION,
        }[purchase.product],
        idempotency_key=f"purchase:{purchase.pk}",
        movements=movements,
        user=purchase.user,
        performer=purchase.performer,
        source_type="billing.purchase",
        source_id=purchase.pk,
        available_at=_hold_until(now),
        gross_cents=purchase.amount_cents,
        performer_cents=share,
        memo=purchase.description,
    )
    return transfer


def _track_purchase(purchase: Purchase) -> None:
    """Tickets and subscriptions are strong signals for recommendations."""
    kind = {Product.TICKET: "ticket", Product.PRIVATE: "ticket", Product.SUBSCRIPTION: "subscription"}.get(
        purchase.product
    )
    if kind and purchase.performer_id:
        tracking.record(user_id=purchase.user_id, performer_id=purchase.performer_id, kind=kind)


def fulfil_purchase(*, purchase: Purchase, payment_reference: str = "", subscription_id: str = "") -> str:
    """Paid: grant what was bought and book the money, exactly once."""
    now = timezone.now()
    with transaction.atomic():
        updates = {"status": Purchase.Status.PAID, "paid_at": now}
        if payment_reference and not purchase.provider_reference:
            updates["provider_reference"] = payment_reference
        # Compare-and-set: only a pending (or declined, then paid on retry) purchase is fulfilled.
        if not Purchase.objects.filter(
            pk=purchase.pk, status__in=[Purchase.Status.PENDING, Purchase.Status.DECLINED]
        ).update(**updates):
            return "ignored: already settled"
        purchase.refresh_from_db()
        if purchase.product == Product.SUBSCRIPTION:
            subscription = Subscription.objects.create(
                user=purchase.user,
                performer=purchase.performer,
                price_cents=purchase.amount_cents,
                provider=purchase.provider,
                provider_subscription_id=subscription_id or f"{purchase.provider}:{purchase.reference}",
                current_period_end=now + datetime.timedelta(days=settings.SUBSCRIPTION_PERIOD_DAYS),
            )
            Purchase.objects.filter(pk=purchase.pk).update(subscription=subscription)
        transfer = _book_purchase(purchase, now)
        _track_purchase(purchase)
        record_audit(
            action="billing.purchase_paid",
            actor_id=purchase.user_id,
            target=purchase,
            details={"amount_cents": purchase.amount_cents, "transfer": transfer.pk, "product": purchase.product},
        )
        send_user_event(
            purchase.user_id, "purchase_paid", {"purchase": str(purchase.reference), "product": purchase.product}
        )
        transaction.on_commit(lambda: _send_receipt(purchase.pk))
    return "fulfilled"


def _send_receipt(purchase_id: int) -> None:
    purchase = Purchase.objects.select_related("user").get(pk=purchase_id)
    try:
        send_mail(
            subject=f"Your Marquee receipt: {purchase.description}",
            message=render_to_string("billing/receipt_email.txt", {"purchase": purchase}),
            from_email=None,
            recipient_list=[purchase.user.email],
        )
    except Exception:  # a mail outage must not look like a failed payment
        logger.exception("receipt mail for purchase %s failed", purchase_id)


def reverse_purchase(*, purchase: Purchase, kind: str, actor=None, request=None) -> str:
    """Refund or chargeback: reverse the money by a new transfer, remove access."""
    status = Purchase.Status.REFUNDED if kind == TransferKind.REFUND else Purchase.Status.CHARGED_BACK
    now = timezone.now()
    with transaction.atomic():
        if not Purchase.objects.filter(pk=purchase.pk, status=Purchase.Status.PAID).update(
            status=status, reversed_at=now
        ):
            return "ignored: not paid"
        original = Transfer.objects.get(idempotency_key=f"purchase:{purchase.pk}")
        reversal, _ = reverse_transfer(original=original, kind=kind, idempotency_key=f"{kind}:purchase:{purchase.pk}")
        if purchase.product == Product.SUBSCRIPTION and purchase.subscription_id:
            # The paid-for period is gone: access ends now.
            Subscription.objects.filter(pk=purchase.subscription_id).update(
                status=Subscription.Status.CANCELED, canceled_at=now, current_period_end=now
            )
        record_audit(
            action=f"billing.{kind}",
            actor=actor,
            request=request,
            target=purchase,
            details={"amount_cents": purchase.amount_cents, "transfer": reversal.pk},
        )
    return kind


# --- subscriptions -----------------------------------------------------------

_LIVE = [Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE]


def renew_subscription(*, subscription: Subscription, event: NormalizedEvent) -> str:
    """A renewal payment: book it; extend the period (never backwards); a
    canceled subscription stays canceled whatever arrives late."""
    now = timezone.now()
    period_end = event.period_end or (
        max(subscription.current_period_end, now) + datetime.timedelta(days=settings.SUBSCRIPTION_PERIOD_DAYS)
    )
    with transaction.atomic():
        amount = event.amount_cents if event.amount_cents is not None else subscription.price_cents
        try:
            with transaction.atomic():
                purchase = Purchase.objects.create(
                    user=subscription.user,
                    product=Product.SUBSCRIPTION,
                    provider=subscription.provider,
                    status=Purchase.Status.PAID,
                    paid_at=now,
                    amount_cents=amount,
                    description=f"Fan club: {subscription.performer.display_name} (renewal)",
                    performer=subscription.performer,
                    subscription=subscription,
                    provider_reference=event.payment_reference or event.event_id,
                )
        except IntegrityError:
            return "ignored: renewal already booked"
        _book_purchase(purchase, now)
        extended = Subscription.objects.filter(pk=subscription.pk, status__in=_LIVE).update(
            status=Subscription.Status.ACTIVE,
            past_due_since=None,
            current_period_end=Greatest(F("current_period_end"), period_end),
        )
        record_audit(
            action="billing.subscription_renewed",
            actor_id=subscription.user_id,
            target=subscription,
            details={"purchase": purchase.pk, "extended": bool(extended)},
        )
        if extended:
            tracking.record(user_id=subscription.user_id, performer_id=subscription.performer_id, kind="subscription")
    return "renewed" if extended else "booked; subscription stays canceled"


def mark_subscription_past_due(*, subscription: Subscription) -> str:
    with transaction.atomic():
        changed = Subscription.objects.filter(pk=subscription.pk, status=Subscription.Status.ACTIVE).update(
            status=Subscription.Status.PAST_DUE, past_due_since=timezone.now()
        )
        if changed:
            record_audit(action="billing.subscription_past_due", actor_id=subscription.user_id, target=subscription)
    return "past_due" if changed else "ignored: not active"


def end_subscription(*, subscription: Subscription, reason: str) -> str:
    """Ended by the provider: no more renewals; access until the period end."""
    with transaction.atomic():
        changed = Subscription.objects.filter(pk=subscription.pk, status__in=_LIVE).update(
            status=Subscription.Status.CANCELED, canceled_at=timezone.now()
        )
        if changed:
            record_audit(
                action="billing.subscription_ended",
                actor_id=subscription.user_id,
                target=subscription,
                details={"reason": reason},
            )
    return "canceled" if changed else "ignored: already canceled"


def cancel_subscription(*, user, subscription: Subscription, request=None) -> Subscription:
    """The viewer cancels: no renewal, access until the end of the paid period."""
    if subscription.user_id != user.pk:
        raise BillingError("not_found", "No such subscription.", 404)
    with transaction.atomic():
        changed = Subscription.objects.filter(pk=subscription.pk, status__in=_LIVE).update(
            status=Subscription.Status.CANCELED, canceled_at=timezone.now()
        )
        if not changed:
            raise BillingError("already_canceled", "This subscription is already canceled.", 409)
        record_audit(action="billing.subscription_canceled", actor=user, request=request, target=subscription)
        provider, provider_id = subscription.provider, subscription.provider_subscription_id
        transaction.on_commit(lambda: get_gateway(provider, require_enabled=False).cancel_subscription(provider_id))
    subscription.refresh_from_db()
    return subscription


# --- tips --------------------------------------------------------------------


def _goal_progress(performer) -> dict | None:
    """Tokens tipped towards the performer's goal (this live show, else the last 24 h)."""
    if not performer.tip_goal_tokens:
        return None
    since = timezone.now() - datetime.timedelta(hours=24)
    live = performer.shows.filter(status="live").values_list("started_at", flat=True).first()
    if live:
        since = live
    tipped = Tip.objects.filter(performer=performer, created_at__gte=since).aggregate(total=Sum("tokens"))["total"] or 0
    return {"tokens": tipped, "goal": performer.tip_goal_tokens, "label": performer.tip_goal_label}


def send_tip(*, user, performer, tokens: int, idempotency_key: str, location, message: str = "", request=None) -> Tip:
    """Tokens from ``user``'s wallet to ``performer`` in one transaction; the
    tip shows in the room after commit.  Repeating ``idempotency_key`` returns
    the first tip and moves nothing."""
    allowed = policy.can_purchase(user, location)
    if not allowed:
        raise BillingError(allowed.code, allowed.message, allowed.status)
    if not policy.can_view_performer(user, performer, location):
        raise BillingError("not_found", "This room does not exist.", 404)
    if performer.user_id == user.pk:
        raise BillingError("own_room", "You cannot tip yourself.", 409)
    if not performer.is_verified or performer.is_suspended:
        raise BillingError("not_accepting", "This performer cannot receive tips.", 409)
    if not isinstance(tokens, int) or not 1 <= tokens <= settings.TIP_MAX_TOKENS:
        raise BillingError("invalid_amount", f"A tip is 1 to {settings.TIP_MAX_TOKENS} tokens.")
    key = f"tip:{user.pk}:{idempotency_key}"[:200]
    value = tokens * settings.TOKEN_VALUE_CENTS
    share, fee = split(value)
    now = timezone.now()
    try:
        with transaction.atomic():
            transfer, created = post_transfer(
                kind=TransferKind.TIP,
                idempotency_key=key,
                movements=[
                    Movement(ledger_wallet(user), -tokens),
                    Movement(ledger_platform(AccountKind.TOKEN_SUPPLY, shard=user.pk), tokens),
                    Movement(ledger_platform(AccountKind.TOKEN_FLOAT, shard=user.pk), -value),
                    Movement(performer_earnings(performer, AccountKind.PERFORMER_PENDING), share),
                    Movement(ledger_platform(AccountKind.PLATFORM_FEES, shard=user.pk), fee),
                ],
                user=user,
                performer=performer,
                source_type="billing.tip",
                available_at=_hold_until(now),
                gross_cents=value,
                performer_cents=share,
                memo=message[:200],
            )
            if not created:
                return Tip.objects.get(transfer=transfer)
            tip = Tip.objects.create(
                user=user, performer=performer, tokens=tokens, message=message[:200], transfer=transfer
            )
            progress = _goal_progress(performer)
            send_room_event(
                performer.username,
                "tip",
                {"id": tip.pk, "from": user.username, "tokens": tokens, "message": tip.message, "goal": progress},
            )
            if progress and progress["tokens"] >= progress["goal"] > progress["tokens"] - tokens:
                send_room_event(performer.username, "goal_reached", {"goal": progress})
            record_audit(
                action="billing.tip",
                actor=user,
                request=request,
                target=tip,
                details={"tokens": tokens, "to": performer.pk},
            )
            tracking.record(user_id=user.pk, performer_id=performer.pk, kind="tip", weight=tokens)
    except InsufficientFunds:
        raise BillingError("insufficient_tokens", "Not enough tokens in your wallet for this tip.", 402)
    except IntegrityError:
        # The same key sent twice at the same moment: the other one won.
        existing = Tip.objects.filter(transfer__idempotency_key=key).first()
        if existing is None:
            raise
        return existing
    return tip


# --- earnings and payouts --------------------------------------------------


def release_due_earnings(*, now=None) -> int:
    """Pending → available for earnings whose hold is over (not reversed,
    not yet released).  Returns how many were released; safe to run often."""
    now = now or timezone.now()
    due = (
        Transfer.objects.filter(
            kind__in=[
                TransferKind.TIP,
                TransferKind.TICKET,
                TransferKind.SUBSCRIPTION,
                TransferKind.PRIVATE,
                TransferKind.CONTENT,
            ],
            available_at__lte=now,
            performer__isnull=False,
            performer_cents__gt=0,
        )
        .exclude(followups__kind__in=[TransferKind.RELEASE, TransferKind.REFUND, TransferKind.CHARGEBACK])
        .select_related("performer")
        .order_by("pk")[:1000]
    )
    released = 0
    for earning in due:
        with transaction.atomic():
            pending = performer_account(earning.performer, AccountKind.PERFORMER_PENDING)
            available = performer_account(earning.performer, AccountKind.PERFORMER_AVAILABLE)
            try:
                _, created = post_transfer(
                    kind=TransferKind.RELEASE,
                    idempotency_key=f"release:{earning.pk}",
                    movements=[
                        Movement(pending, -earning.performer_cents),
                        Movement(available, earning.performer_cents),
                    ],
                    performer=earning.performer,
                    related=earning,
                    source_type=earning.source_type,
                    source_id=earning.source_id,
                    performer_cents=earning.performer_cents,
                )
            except InsufficientFunds:
                # Clawed back in the meantime beyond this earning: nothing left to release.
                continue
            if created:
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
    try:
        require_two_factor(user)
    except TwoFactorRequired as exc:
        raise BillingError("two_factor_required", str(exc), 403)
    if not isinstance(amount_cents, int) or amount_cents < settings.PAYOUT_MINIMUM_CENTS:
        raise BillingError("below_minimum", f"The minimum payout is {settings.PAYOUT_MINIMUM_CENTS / 100:.2f}.")
    try:
        with transaction.atomic():
            payout = Payout.objects.create(performer=performer, amount_cents=amount_cents)
            post_transfer(
                kind=TransferKind.PAYOUT,
                idempotency_key=f"payout:{payout.pk}",
                movements=[
                    Movement(performer_account(performer, AccountKind.PERFORMER_AVAILABLE), -amount_cents),
                    Movement(performer_account(performer, AccountKind.PAYOUTS_IN_FLIGHT), amount_cents),
                ],
                performer=performer,
                source_type="billing.payout",
                source_id=payout.pk,
            )
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
            status=status, rail_reference=rail_reference[:120], settled_at=timezone.now()
        ):
            raise BillingError("already_settled", "This payout is already settled.", 409)
        in_flight = performer_account(payout.performer, AccountKind.PAYOUTS_IN_FLIGHT)
        target = (
            platform_account(AccountKind.PAYOUTS_SENT)
            if paid
            else performer_account(payout.performer, AccountKind.PERFORMER_AVAILABLE)
        )
        post_transfer(
            kind=TransferKind.PAYOUT_PAID if paid else TransferKind.PAYOUT_FAILED,
            idempotency_key=f"payout:{payout.pk}:{status}",
            movements=[Movement(in_flight, -payout.amount_cents), Movement(target, payout.amount_cents)],
            performer=payout.performer,
            source_type="billing.payout",
            source_id=payout.pk,
        )
        record_audit(
            action=f"billing.payout_{status}", actor=actor, target=payout, details={"reference": rail_reference}
        )
    payout.refresh_from_db()
    return payout


# --- sandbox -------------------------------------------------------------------


def sandbox_emit(*, event_type: str, data: dict, event_id: str | None = None) -> list[str]:
    """Have the sandbox provider send a signed event through the webhook path."""
    from marquee.billing.gateways.sandbox.gateway import build_event

    body, headers = build_event(event_type, data, event_id=event_id)
    return process_webhook(provider="sandbox", body=body, headers=headers)


def sandbox_complete_checkout(*, purchase: Purchase, pay: bool) -> list[str]:
    """The sandbox hosted page's Pay / Decline buttons."""
    if purchase.provider != "sandbox":
        raise BillingError("wrong_provider", "Not a sandbox checkout.", 404)
    if purchase.status != Purchase.Status.PENDING:
        raise BillingError("already_settled", "This checkout is already finished.", 409)
    data = {
        "purchase": str(purchase.reference),
        "amount_cents": purchase.amount_cents,
        "payment": f"sbx_pay_{purchase.reference.hex}",
    }
    if pay and purchase.product == Product.SUBSCRIPTION:
        data["subscription"] = f"sbx_sub_{purchase.reference.hex}"
    return sandbox_emit(event_type="payment.succeeded" if pay else "payment.declined", data=data)


def staff_refund(*, purchase: Purchase, actor) -> list[str]:
    """Staff refund: the sandbox emits its event; a real provider is asked to
    refund, and its webhook applies the effect (so the ledger follows the provider)."""
    if purchase.status != Purchase.Status.PAID:
        raise BillingError("not_paid", "Only paid purchases can be refunded.", 409)
    if purchase.provider == "sandbox":
        return sandbox_reverse(purchase=purchase, chargeback=False)
    get_gateway(purchase.provider).refund(purchase.provider_reference, purchase.amount_cents)
    record_audit(action="billing.refund_requested", actor=actor, target=purchase)
    return ["refund requested from the provider"]


def sandbox_reverse(*, purchase: Purchase, chargeback: bool) -> list[str]:
    """Staff's refund / chargeback through the sandbox (admin action)."""
    if purchase.provider != "sandbox":
        raise BillingError("wrong_provider", "Only sandbox purchases can be charged back from here.")
    return sandbox_emit(
        event_type="chargeback.created" if chargeback else "refund.succeeded",
        data={"purchase": str(purchase.reference), "payment": purchase.provider_reference},
    )

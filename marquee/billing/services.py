"""Every write of the money capability: checkout, webhook effects, tips,
subscriptions, refunds/chargebacks (including a cancelled show's tickets),
earnings release and payouts.

These services decide whether and when; what moves where is built only in
``marquee.billing.money`` and every price or limit is checked only in
``marquee.billing.prices``."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.template.loader import render_to_string
from django.utils import timezone

from marquee.audit.services import record_audit
from marquee.billing import money, prices
from marquee.billing.errors import BillingError  # surfaces catch it as ``services.BillingError``
from marquee.billing.gateways import CheckoutRequest, EventType, NormalizedEvent, get_gateway
from marquee.billing.models import Payout, Product, Purchase, Subscription, Tip, WebhookEvent
from marquee.billing.selectors import tip_goal_progress
from marquee.compliance import policy
from marquee.ledger.models import Transfer, TransferKind
from marquee.ledger.services import InsufficientFunds
from marquee.lib import domain_events
from marquee.lib.events import send_room_event, send_user_event
from marquee.performers.models import ShowKind

logger = logging.getLogger(__name__)


def _require_can_earn(performer) -> None:
    """Every sale to, tip to and payout for a performer: verified, not suspended."""
    if performer is not None and not (allowed := policy.can_earn(performer)):
        raise BillingError(allowed.code, allowed.message, allowed.status)


# --- checkout ---------------------------------------------------------------


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
        prices.check_price_cents(price)
        label = "Ticket" if product == Product.TICKET else "Private show"
        return {
            "amount_cents": price,
            "description": f"{label}: {show.title} ({show.performer.display_name})",
            "performer": show.performer,
            "show": show,
        }
    if product == Product.SUBSCRIPTION:
        if performer is None:  # (may this performer sell at all: policy.can_earn, checked before)
            raise BillingError("not_for_sale", "This performer has no fan club.", 409)
        if performer.user_id == user.pk:
            raise BillingError("own_club", "You cannot subscribe to yourself.", 409)
        if selectors.has_active_subscription(user, performer):
            raise BillingError("already_owned", "You are already subscribed.", 409)
        prices.check_price_cents(performer.subscription_price_cents)
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
    _require_can_earn(performer or (show.performer if show is not None else None))
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
    references = [ref for ref in (event.payment_reference, *event.other_references) if ref]
    if references:
        return rows.filter(provider=provider, provider_reference__in=references).first()
    return None


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def apply_event(*, provider: str, event: NormalizedEvent) -> str:
    """The effect of one normalized event; returns a short outcome for the log.
    Dispatched by event type (``_HANDLERS``), the same for every provider."""
    handler = _HANDLERS.get(event.type)
    if handler is None:
        return f"ignored: unhandled type {event.raw_type}"
    return handler(provider, event)


def _on_payment_succeeded(provider: str, event: NormalizedEvent) -> str:
    purchase = _find_purchase(provider, event)
    if purchase is None:
        return "ignored: unknown purchase"
    if event.amount_cents is not None and event.amount_cents != purchase.amount_cents:
        record_audit(action="billing.amount_mismatch", target=purchase, details={"paid": event.amount_cents})
        return "ignored: amount differs from the price"
    return fulfil_purchase(
        purchase=purchase, payment_reference=event.payment_reference, subscription_id=event.subscription_id
    )


def _on_payment_approved(provider: str, event: NormalizedEvent) -> str:
    """Approved but not yet collected (PayPal): collect after commit."""
    purchase = _find_purchase(provider, event)
    if purchase is None:
        return "ignored: unknown purchase"
    if purchase.status != Purchase.Status.PENDING:
        return "ignored: not pending"
    gateway, reference = get_gateway(provider), str(purchase.reference)
    transaction.on_commit(
        lambda: gateway.collect(
            purchase_reference=reference,
            payment_reference=event.payment_reference,
            subscription_id=event.subscription_id,
        )
    )
    return "approved: collecting"


def _on_payment_failed(provider: str, event: NormalizedEvent) -> str:
    purchase = _find_purchase(provider, event)
    if purchase is None:
        return "ignored: unknown purchase"
    changed = Purchase.objects.filter(pk=purchase.pk, status=Purchase.Status.PENDING).update(
        status=Purchase.Status.DECLINED
    )
    return "declined" if changed else "ignored: not pending"


def _on_subscription_event(provider: str, event: NormalizedEvent) -> str:
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


def _on_reversal(provider: str, event: NormalizedEvent) -> str:
    purchase = _find_purchase(provider, event)
    if purchase is None:
        return "ignored: unknown purchase"
    if event.type == EventType.REFUNDED and event.amount_cents is not None:
        if event.amount_cents < purchase.amount_cents:
            return _flag_partial_refund(purchase=purchase, event=event)
    kind = TransferKind.REFUND if event.type == EventType.REFUNDED else TransferKind.CHARGEBACK
    return reverse_purchase(purchase=purchase, kind=kind, reason=event.raw_type)


_HANDLERS = {
    EventType.PAYMENT_SUCCEEDED: _on_payment_succeeded,
    EventType.PAYMENT_APPROVED: _on_payment_approved,
    EventType.PAYMENT_FAILED: _on_payment_failed,
    EventType.SUBSCRIPTION_RENEWED: _on_subscription_event,
    EventType.SUBSCRIPTION_PAST_DUE: _on_subscription_event,
    EventType.SUBSCRIPTION_ENDED: _on_subscription_event,
    EventType.REFUNDED: _on_reversal,
    EventType.CHARGEBACK: _on_reversal,
}


def _flag_partial_refund(*, purchase: Purchase, event: NormalizedEvent) -> str:
    """A partial refund is not reversed automatically (a ticket or token pack
    cannot be half taken back): it is recorded for staff, who decide.  The
    purchase stays paid; when the provider's refunds reach the full amount
    (Stripe's ``amount_refunded`` is cumulative), the whole purchase is reversed."""
    record_audit(
        action="billing.partial_refund_flagged",
        target=purchase,
        details={"refunded_cents": event.amount_cents, "amount_cents": purchase.amount_cents, "event": event.event_id},
    )
    logger.warning("partial refund of purchase %s needs staff review", purchase.pk)
    return f"flagged: partial refund of {event.amount_cents} of {purchase.amount_cents} cents, for staff review"


def _book_purchase(purchase: Purchase, now) -> Transfer:
    # One seam for booking a purchase (fresh sale or renewal); tests make it fail to prove rollback.
    return money.book_purchase(purchase=purchase, now=now)


def _track_purchase(purchase: Purchase) -> None:
    domain_events.send(
        "purchase.completed", user_id=purchase.user_id, performer_id=purchase.performer_id, product=purchase.product
    )


def fulfil_purchase(*, purchase: Purchase, payment_reference: str = "", subscription_id: str = "") -> str:
    """Paid: grant what was bought and book the money, exactly once."""
    now = timezone.now()
    with transaction.atomic():
        updates = {"status": Purchase.Status.PAID, "paid_at": now}
        if payment_reference:
            # The id refunds and disputes will name (Stripe: the payment
            # intent), replacing the checkout session's id kept until now.
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


def reverse_purchase(*, purchase: Purchase, kind: str, actor=None, request=None, reason: str = "") -> str:
    """Refund or chargeback: reverse the money by a new transfer, remove access.
    Exactly once: only a paid purchase moves to refunded / charged back."""
    status = Purchase.Status.REFUNDED if kind == TransferKind.REFUND else Purchase.Status.CHARGED_BACK
    now = timezone.now()
    with transaction.atomic():
        if not Purchase.objects.filter(pk=purchase.pk, status=Purchase.Status.PAID).update(
            status=status, reversed_at=now
        ):
            return "ignored: not paid"
        reversal = money.reverse_purchase_money(purchase=purchase, kind=kind)
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
            details={"amount_cents": purchase.amount_cents, "transfer": reversal.pk, "reason": reason},
        )
    return kind


def refund_show_tickets(*, show, reason: str, actor=None, request=None) -> int:
    """Refund every paid ticket of ``show`` (a cancelled show): each is reversed
    through the ledger (the performer's share clawed back, pending first),
    marked refunded, audited and its buyer notified in the caller's
    transaction; after commit the buyer gets a mail and a real provider is
    asked to return the money.  Idempotent: refunded tickets are skipped.
    Returns how many tickets this call refunded."""
    from marquee.shows.schedule_models import Notification

    refunded = 0
    with transaction.atomic():
        tickets = (
            Purchase.objects.filter(
                show=show, product__in=[Product.TICKET, Product.PRIVATE], status=Purchase.Status.PAID
            )
            .select_related("user", "performer__user", "show")
            .order_by("pk")
        )
        for purchase in tickets:
            if (
                reverse_purchase(
                    purchase=purchase, kind=TransferKind.REFUND, actor=actor, request=request, reason=reason
                )
                != TransferKind.REFUND
            ):
                continue  # refunded concurrently by someone else
            refunded += 1
            text = f"“{show.title}” was cancelled: your ticket (${purchase.amount_cents / 100:.2f}) is refunded."
            Notification.objects.get_or_create(
                user=purchase.user, show=show, kind=Notification.Kind.SHOW_CANCELLED, defaults={"text": text[:300]}
            )
            send_user_event(purchase.user_id, "purchase_refunded", {"purchase": str(purchase.reference)})
            transaction.on_commit(lambda pk=purchase.pk: _after_ticket_refund(pk))
    return refunded


def _after_ticket_refund(purchase_id: int) -> None:
    """Outside the transaction: give the money back at the provider (the
    sandbox has none to give back) and mail the buyer.  A provider failure is
    logged and audited for staff: the ledger already owes the buyer."""
    purchase = Purchase.objects.select_related("user", "show").get(pk=purchase_id)
    if purchase.provider != "sandbox":
        try:
            get_gateway(purchase.provider, require_enabled=False).refund(
                purchase.provider_reference, purchase.amount_cents
            )
        except Exception:
            logger.exception("provider refund of purchase %s failed", purchase_id)
            record_audit(action="billing.provider_refund_failed", target=purchase)
    try:
        send_mail(
            subject=f"Refund: {purchase.description}",
            message=f"The show was cancelled and your ticket is refunded (${purchase.amount_cents / 100:.2f}).",
            from_email=None,
            recipient_list=[purchase.user.email],
        )
    except Exception:  # a mail outage must not undo a refund
        logger.exception("refund mail for purchase %s failed", purchase_id)


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
            domain_events.send(
                "subscription.extended", user_id=subscription.user_id, performer_id=subscription.performer_id
            )
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


def send_tip(*, user, performer, tokens: int, idempotency_key: str, location, message: str = "", request=None) -> Tip:
    """Tokens from ``user``'s wallet to ``performer`` in one transaction; the
    tip shows in the room after commit.  Repeating ``idempotency_key`` (per
    user) returns the first tip and moves nothing."""
    allowed = policy.can_purchase(user, location)
    if not allowed:
        raise BillingError(allowed.code, allowed.message, allowed.status)
    if not policy.can_view_performer(user, performer, location):
        raise BillingError("not_found", "This room does not exist.", 404)
    if performer.user_id == user.pk:
        raise BillingError("own_room", "You cannot tip yourself.", 409)
    _require_can_earn(performer)
    prices.check_tip_tokens(tokens)
    key = money.tip_key(user, idempotency_key)
    try:
        with transaction.atomic():
            transfer, created = money.spend_tokens(
                kind=TransferKind.TIP,
                user=user,
                performer=performer,
                tokens=tokens,
                idempotency_key=key,
                source_type="billing.tip",
                memo=message,
            )
            if not created:
                return Tip.objects.get(transfer=transfer)
            tip = Tip.objects.create(
                user=user, performer=performer, tokens=tokens, message=message[:200], transfer=transfer
            )
            progress = tip_goal_progress(performer)
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
            domain_events.send("tip.sent", user_id=user.pk, performer_id=performer.pk, tokens=tokens)
    except money.NotEnoughTokens:
        raise BillingError("insufficient_tokens", "Not enough tokens in your wallet for this tip.", 402) from None
    except IntegrityError:
        # The same key sent twice at the same moment: the other one won.
        existing = Tip.objects.filter(transfer__idempotency_key=key).first()
        if existing is None:
            raise
        return existing
    return tip


# --- earnings and payouts --------------------------------------------------


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
            status=status, rail_reference=rail_reference[:120], settled_at=timezone.now()
        ):
            raise BillingError("already_settled", "This payout is already settled.", 409)
        money.payout_settled(payout=payout, paid=paid)
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

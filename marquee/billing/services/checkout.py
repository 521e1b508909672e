"""Purchases: checkout (a pending purchase and the provider's hosted page),
fulfilment when paid, receipts, refunds and chargebacks (including a
cancelled show's tickets)."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from marquee.audit.services import record_audit
from marquee.billing import money, prices
from marquee.billing.errors import BillingError
from marquee.billing.gateways import CheckoutRequest, get_gateway
from marquee.billing.models import Product, Purchase, Subscription
from marquee.compliance import policy
from marquee.ledger.models import Transfer, TransferKind
from marquee.lib import domain_events, mail
from marquee.lib.events import send_user_event
from marquee.performers.models import ShowKind

logger = logging.getLogger(__name__)


def _require_can_earn(performer) -> None:
    """Every sale to, tip to and payout for a performer: verified, not suspended."""
    if performer is not None and not (allowed := policy.can_earn(performer)):
        raise BillingError(allowed.code, allowed.message, allowed.status)


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
            descriptor=settings.BILLING_DESCRIPTOR,
        )
    )
    if session.provider_reference:
        Purchase.objects.filter(pk=purchase.pk, provider_reference="").update(
            provider_reference=session.provider_reference
        )
    return purchase, session.url


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
            subject=mail.subject("Your receipt", f"Your Marquee receipt: {purchase.description}"),
            message=render_to_string("billing/receipt_email.txt", {"purchase": purchase}),
            from_email=mail.sender(),
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


def refund_show_tickets(*, show, reason: str, actor=None, request=None, on_refunded=None) -> int:
    """Refund every paid ticket of ``show`` (a cancelled show): each is reversed
    through the ledger (the performer's share clawed back, pending first),
    marked refunded, audited and ``on_refunded(purchase)`` called (the
    schedule notifies the buyer) in the caller's transaction; after commit
    the buyer gets a mail and a real provider is asked to return the money.
    Idempotent: refunded tickets are skipped.  Returns how many tickets this
    call refunded."""
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
            if on_refunded is not None:
                on_refunded(purchase)
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
            subject=mail.subject("Refund", f"Refund: {purchase.description}"),
            message=f"The show was cancelled and your ticket is refunded (${purchase.amount_cents / 100:.2f}).",
            from_email=mail.sender(),
            recipient_list=[purchase.user.email],
        )
    except Exception:  # a mail outage must not undo a refund
        logger.exception("refund mail for purchase %s failed", purchase_id)

"""Provider webhooks: verify, record each event once, apply its effect in the
same transaction; dispatched by event type through ``_HANDLERS``."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from marquee.audit.services import record_audit
from marquee.billing.gateways import EventType, NormalizedEvent, get_gateway
from marquee.billing.models import Purchase, Subscription, WebhookEvent
from marquee.billing.services.checkout import fulfil_purchase, reverse_purchase
from marquee.billing.services.subscriptions import end_subscription, mark_subscription_past_due, renew_subscription
from marquee.ledger.models import TransferKind
from marquee.lib.fields import clip

logger = logging.getLogger(__name__)


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
                        event_type=clip(event.raw_type, WebhookEvent, "event_type"),
                        payload=event.payload,
                    )
            except IntegrityError:
                outcomes.append("duplicate")
                continue
            outcome = apply_event(provider=provider, event=event)
            WebhookEvent.objects.filter(pk=record.pk).update(outcome=clip(outcome, WebhookEvent, "outcome"))
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

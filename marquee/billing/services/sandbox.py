"""The sandbox provider's actions (hosted page buttons, staff refunds and
chargebacks): signed events sent down the real webhook path."""

from __future__ import annotations

from marquee.audit.services import record_audit
from marquee.billing.errors import BillingError
from marquee.billing.gateways import get_gateway
from marquee.billing.models import Product, Purchase
from marquee.billing.services.webhooks import process_webhook


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
        # Who asked: the webhook that applies the refund knows no staff member.
        record_audit(action="billing.refund_requested", actor=actor, target=purchase)
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

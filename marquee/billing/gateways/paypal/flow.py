"""The buyer is back from PayPal (or PayPal told us they approved): collect
the payment and fulfil the purchase through the same ``apply_event`` path as
webhooks.  What PayPal's API answers us (over TLS, with our credentials) is
as authentic as a signed webhook; fulfilment is compare-and-set, so the
return, the task and the ``PAYMENT.CAPTURE.COMPLETED`` webhook can all arrive
and the purchase is still fulfilled once."""

from __future__ import annotations

import datetime
import re
from urllib.parse import quote

import httpx
from django.db import transaction
from django.utils import timezone

from marquee.billing import services
from marquee.billing.gateways.base import EventType, NormalizedEvent
from marquee.billing.gateways.paypal import client, events
from marquee.billing.models import Product, Purchase
from marquee.lib.errors import DomainError

PENDING = "pending"
_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def _mismatch() -> DomainError:
    return DomainError("paypal_mismatch", "This PayPal payment belongs to another purchase.", 409)


def _captured_order(purchase: Purchase, order_id: str) -> NormalizedEvent | None:
    path = f"/v2/checkout/orders/{quote(order_id, safe='')}"
    order = client.call("GET", path)
    if events._order_reference(order) != str(purchase.reference):
        raise _mismatch()
    if order.get("status") == "APPROVED":
        try:
            order = client.call("POST", f"{path}/capture", json={}, request_id=f"marquee-capture-{purchase.reference}")
        except client.PayPalError as exc:
            if exc.issue == "ORDER_ALREADY_CAPTURED":
                order = client.call("GET", path)
            elif exc.issue == "INSTRUMENT_DECLINED":
                raise DomainError("payment_declined", "PayPal declined this payment method; please try again.", 402)
            else:
                raise
    units = order.get("purchase_units") or [{}]
    captures = (units[0].get("payments") or {}).get("captures") or []
    capture = next((c for c in captures if c.get("status") == "COMPLETED"), None)
    if order.get("status") != "COMPLETED" or capture is None:
        # Not approved yet, or a capture PayPal still holds as PENDING: its webhook fulfils it.
        return None
    return NormalizedEvent(
        event_id=f"capture:{capture['id']}",
        type=EventType.PAYMENT_SUCCEEDED,
        raw_type="paypal.order_captured",
        purchase_reference=str(purchase.reference),
        payment_reference=str(capture["id"]),
        amount_cents=events.cents(capture.get("amount")) or 0,
        payload=order,
    )


def _first_subscription_payment(purchase: Purchase, subscription_id: str) -> NormalizedEvent | None:
    path = f"/v1/billing/subscriptions/{quote(subscription_id, safe='')}"
    subscription = client.call("GET", path)
    if str(subscription.get("custom_id") or "") != str(purchase.reference):
        raise _mismatch()
    if subscription.get("status") != "ACTIVE":
        return None
    since = purchase.created_at - datetime.timedelta(days=1)
    until = timezone.now() + datetime.timedelta(days=1)
    listing = client.call(
        "GET",
        f"{path}/transactions",
        params={"start_time": since.strftime("%Y-%m-%dT%H:%M:%SZ"), "end_time": until.strftime("%Y-%m-%dT%H:%M:%SZ")},
    )
    completed = sorted(
        (t for t in listing.get("transactions") or [] if t.get("status") == "COMPLETED" and t.get("id")),
        key=lambda t: str(t.get("time", "")),
    )
    if not completed:
        return None  # active, first payment not taken yet: the task looks again
    first = completed[0]
    return NormalizedEvent(
        event_id=f"sale:{first['id']}",
        type=EventType.PAYMENT_SUCCEEDED,
        raw_type="paypal.subscription_first_payment",
        purchase_reference=str(purchase.reference),
        # The sale id: what PAYMENT.SALE.COMPLETED, refunds and disputes name.
        payment_reference=str(first["id"]),
        subscription_id=str(subscription["id"]),
        amount_cents=events.cents((first.get("amount_with_breakdown") or {}).get("gross_amount")) or 0,
        payload=subscription,
    )


def complete(*, purchase_reference: str, order_id: str = "", subscription_id: str = "") -> str:
    """Collect and fulfil; returns the outcome, or ``"pending"`` when PayPal has no completed payment yet."""
    purchase = Purchase.objects.filter(provider="paypal", reference=purchase_reference).first()
    if purchase is None:
        raise DomainError("not_found", "No such purchase.", 404)
    if purchase.status != Purchase.Status.PENDING:
        return "ignored: already settled"
    wanted = subscription_id if purchase.product == Product.SUBSCRIPTION else order_id
    if not _ID.match(wanted or ""):
        raise DomainError("paypal_missing_id", "PayPal did not say which payment this is.", 400)
    try:
        if purchase.product == Product.SUBSCRIPTION:
            event = _first_subscription_payment(purchase, wanted)
        else:
            event = _captured_order(purchase, wanted)
    except client.PayPalError as exc:
        if exc.status == 404:
            raise DomainError("not_found", "PayPal does not know this payment.", 404)
        raise client.unavailable("confirm the payment")
    except httpx.HTTPError:
        raise client.unavailable("confirm the payment")
    if event is None:
        return PENDING
    with transaction.atomic():
        return services.apply_event(provider="paypal", event=event)

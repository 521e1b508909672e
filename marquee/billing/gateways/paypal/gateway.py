"""PayPal: Orders v2 for one-time purchases (token packs, tickets, privates),
Billing Plans + Subscriptions for fan clubs, refunds from the admin, webhooks
verified with PayPal's certificate (``verify.py``).

PayPal's acceptable-use policy forbids sexually oriented content: this gateway
is for operators whose live shows PayPal allows (cooking, music, games, talk),
and it stays off unless ``PAYPAL_ENABLED`` is set deliberately with the
credentials.

Nothing is granted at checkout.  The buyer approves on PayPal's page and comes
back to ``paypal_return``, where the order is captured (or the subscription's
first payment looked up) and the purchase fulfilled with the id that refunds
and disputes will name: the capture id, or the subscription's first sale id.
``CHECKOUT.ORDER.APPROVED`` / ``BILLING.SUBSCRIPTION.ACTIVATED`` do the same
from a task when the buyer never comes back."""

from __future__ import annotations

import json
import logging
from urllib.parse import quote, urljoin

import httpx
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from marquee.billing.gateways.base import CheckoutRequest, CheckoutSession, NormalizedEvent, WebhookRejected
from marquee.billing.gateways.paypal import client, events, verify

logger = logging.getLogger(__name__)

CONTENT_POLICY_WARNING = (
    "PayPal is enabled. PayPal's Acceptable Use Policy forbids sexually oriented content: use PayPal only "
    "if every show and sale on this site is something PayPal allows (cooking, music, games, talk...). "
    "Otherwise set PAYPAL_ENABLED=0."
)


def money(amount_cents: int, currency: str) -> dict:
    return {"currency_code": currency, "value": f"{amount_cents // 100}.{amount_cents % 100:02d}"}


def _link(resource: dict, *rels: str) -> str:
    for rel in rels:
        for link in resource.get("links") or []:
            if link.get("rel") == rel and link.get("href"):
                return str(link["href"])
    raise client.PayPalError(502, "NO_APPROVAL_LINK", resource)


def _account_key(*parts) -> str:
    return ":".join(["paypal", settings.PAYPAL_API_URL, settings.PAYPAL_CLIENT_ID, *map(str, parts)])


def _plan_id(amount_cents: int, currency: str) -> str:
    """One catalog product and one plan per price, created on first use and remembered."""
    days = settings.SUBSCRIPTION_PERIOD_DAYS
    key = _account_key("plan", amount_cents, currency, days)
    plan_id = cache.get(key)
    if plan_id:
        return plan_id
    product = client.call(
        "POST",
        "/v1/catalogs/products",
        json={"name": "Fan club membership", "type": "SERVICE"},
        request_id="marquee-fan-club-product",
    )
    plan = client.call(
        "POST",
        "/v1/billing/plans",
        json={
            "product_id": product["id"],
            "name": f"Fan club {money(amount_cents, currency)['value']} {currency} / {days} days",
            "status": "ACTIVE",
            "billing_cycles": [
                {
                    "frequency": {"interval_unit": "DAY", "interval_count": days},
                    "tenure_type": "REGULAR",
                    "sequence": 1,
                    "total_cycles": 0,
                    "pricing_scheme": {"fixed_price": money(amount_cents, currency)},
                }
            ],
            "payment_preferences": {"auto_bill_outstanding": True, "payment_failure_threshold": 1},
        },
        request_id=f"marquee-plan-{amount_cents}-{currency}-{days}",
    )
    cache.set(key, plan["id"], None)
    return plan["id"]


class PayPalGateway:
    name = "paypal"

    def is_enabled(self) -> bool:
        return bool(
            settings.PAYPAL_ENABLED
            and settings.PAYPAL_CLIENT_ID
            and settings.PAYPAL_CLIENT_SECRET
            and settings.PAYPAL_WEBHOOK_ID
        )

    def start_checkout(self, checkout: CheckoutRequest) -> CheckoutSession:
        try:
            return self._start_checkout(checkout)
        except (client.PayPalError, httpx.HTTPError, KeyError):
            raise client.unavailable("start the payment")

    def _start_checkout(self, checkout: CheckoutRequest) -> CheckoutSession:
        ref = checkout.purchase_reference
        # PayPal appends ?token=<order id> (or ?subscription_id=…) to this URL.
        return_url = urljoin(checkout.success_url, reverse("paypal_return", args=[ref]))
        context = {
            "brand_name": settings.PAYPAL_BRAND_NAME[:127],
            "shipping_preference": "NO_SHIPPING",
            "return_url": return_url,
            "cancel_url": checkout.cancel_url,
        }
        if checkout.recurring:
            subscription = client.call(
                "POST",
                "/v1/billing/subscriptions",
                json={
                    "plan_id": _plan_id(checkout.amount_cents, checkout.currency),
                    "custom_id": ref,
                    **({"subscriber": {"email_address": checkout.customer_email}} if checkout.customer_email else {}),
                    "application_context": {**context, "user_action": "SUBSCRIBE_NOW"},
                },
                request_id=f"marquee-subscription-{ref}",
            )
            url = _link(subscription, "approve")
        else:
            order = client.call(
                "POST",
                "/v2/checkout/orders",
                json={
                    "intent": "CAPTURE",
                    "purchase_units": [
                        {
                            "reference_id": ref,
                            "custom_id": ref,
                            "invoice_id": ref,
                            "description": checkout.description[:127],
                            "amount": money(checkout.amount_cents, checkout.currency),
                            **({"soft_descriptor": checkout.descriptor} if checkout.descriptor else {}),
                        }
                    ],
                    "payment_source": {"paypal": {"experience_context": {**context, "user_action": "PAY_NOW"}}},
                },
                request_id=f"marquee-order-{ref}",
            )
            url = _link(order, "payer-action", "approve")
        # No provider reference yet: the one refunds will name (capture or
        # sale id) only exists once the payment is collected.
        return CheckoutSession(url)

    def parse_webhook(self, *, body: bytes, headers, client_ip: str) -> list[NormalizedEvent]:
        verify.verify(body=body, headers=headers)
        try:
            event = json.loads(body)
            return events.normalize(event)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise WebhookRejected("malformed PayPal event")

    def collect(self, *, purchase_reference: str, payment_reference: str = "", subscription_id: str = "") -> None:
        """Approved on PayPal's page (webhook): capture / look up the payment in a task."""
        from marquee.billing.gateways.paypal.tasks import collect_payment

        collect_payment.delay(
            purchase_reference=purchase_reference, order_id=payment_reference, subscription_id=subscription_id
        )

    def cancel_subscription(self, subscription_id: str) -> None:
        """Called on commit of the viewer's cancel: a task, retried while PayPal is unreachable."""
        from marquee.billing.gateways.paypal.tasks import cancel_subscription

        cancel_subscription.delay(subscription_id=subscription_id)

    def cancel_now(self, subscription_id: str) -> None:
        try:
            client.call(
                "POST",
                f"/v1/billing/subscriptions/{quote(subscription_id, safe='')}/cancel",
                json={"reason": "Canceled by the subscriber"},
            )
        except client.PayPalError as exc:
            if exc.issue != "SUBSCRIPTION_STATUS_INVALID":  # already canceled or expired at PayPal
                raise

    def refund(self, payment_reference: str, amount_cents: int) -> None:
        """A capture (orders) or a sale (subscription payment); the webhook applies the ledger side."""
        reference, amount = quote(payment_reference, safe=""), money(amount_cents, events.CURRENCY)
        try:
            try:
                client.call(
                    "POST",
                    f"/v2/payments/captures/{reference}/refund",
                    json={"amount": amount},
                    request_id=f"marquee-refund-{payment_reference}",
                )
            except client.PayPalError as exc:
                if exc.status != 404:
                    raise
                client.call(
                    "POST",
                    f"/v1/payments/sale/{reference}/refund",
                    json={"amount": {"total": amount["value"], "currency": amount["currency_code"]}},
                    request_id=f"marquee-refund-{payment_reference}",
                )
        except (client.PayPalError, httpx.HTTPError) as exc:
            logger.warning("PayPal refund of %s failed: %s", payment_reference, exc)
            raise client.unavailable("refund this payment")

"""CCBill: FlexForms hosted payment pages and webhooks.

Limits (documented in docs/ledger.md): CCBill webhooks carry no signature.
We accept them only from ``CCBILL_WEBHOOK_ALLOWED_NETWORKS`` and then confirm
the transaction through CCBill's API before applying anything; an event that
cannot be confirmed is refused (400) and CCBill retries it later.  CCBill
events have no id of their own: the event id is built from the event type,
transaction/subscription id and timestamp, which are stable across retries."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import json
from urllib.parse import parse_qs, quote, urlencode

import httpx
from django.conf import settings

from marquee.billing.gateways.base import (
    CheckoutRequest,
    CheckoutSession,
    EventType,
    NormalizedEvent,
    WebhookRejected,
)

FLEXFORMS_URL = "https://api.ccbill.com/wap-frontflex/flexforms/"
# httpx transport for the confirmation lookup (None: the network); tests put a
# MockTransport here so the real ``confirm()`` runs against a fake CCBill.
TRANSPORT: httpx.BaseTransport | None = None
USD = "840"

_TYPES = {
    "NewSaleSuccess": EventType.PAYMENT_SUCCEEDED,
    "NewSaleFailure": EventType.PAYMENT_FAILED,
    "RenewalSuccess": EventType.SUBSCRIPTION_RENEWED,
    "RenewalFailure": EventType.SUBSCRIPTION_PAST_DUE,
    "Cancellation": EventType.SUBSCRIPTION_ENDED,
    "Expiration": EventType.SUBSCRIPTION_ENDED,
    "Refund": EventType.REFUNDED,
    "Chargeback": EventType.CHARGEBACK,
}


def form_digest(*parts: str) -> str:
    """FlexForms' ``formDigest``: MD5 of the price fields followed by the salt."""
    return hashlib.md5("".join(parts).encode() + settings.CCBILL_SALT.encode(), usedforsecurity=False).hexdigest()


def _cents(value) -> int | None:
    if value in (None, ""):
        return None
    return round(float(value) * 100)


class CCBillGateway:
    name = "ccbill"

    def is_enabled(self) -> bool:
        return bool(settings.CCBILL_ACCOUNT and settings.CCBILL_FLEXFORM_ID and settings.CCBILL_SALT)

    def start_checkout(self, checkout: CheckoutRequest) -> CheckoutSession:
        price = f"{checkout.amount_cents / 100:.2f}"
        period = "30"
        params = {
            "clientAccnum": settings.CCBILL_ACCOUNT,
            "clientSubacc": settings.CCBILL_SUBACCOUNT,
            "initialPrice": price,
            "initialPeriod": period,
            "currencyCode": USD,
            "X-purchase": checkout.purchase_reference,
        }
        if checkout.recurring:
            params.update({"recurringPrice": price, "recurringPeriod": period, "numRebills": "99"})
            params["formDigest"] = form_digest(price, period, price, period, "99", USD)
        else:
            params["formDigest"] = form_digest(price, period, USD)
        return CheckoutSession(f"{FLEXFORMS_URL}{settings.CCBILL_FLEXFORM_ID}?{urlencode(params)}")

    def _ip_allowed(self, client_ip: str) -> bool:
        try:
            address = ipaddress.ip_address(client_ip)
        except ValueError:
            return False
        return any(address in network for network in settings.CCBILL_WEBHOOK_ALLOWED_NETWORKS)

    def confirm(self, event: NormalizedEvent) -> bool:
        """The webhook is unsigned: accept its event only if CCBill's own record
        of the transaction (REST lookup with a bearer token; the exact
        endpoint depends on the merchant's API product) says the same thing:
        the same transaction or subscription id, the same purchase when the
        record names one, and for a payment the same amount.
        No credentials, no answer, or any difference: not confirmed."""
        if not settings.CCBILL_API_TOKEN or not settings.CCBILL_API_URL:
            return False
        reference = event.payment_reference or event.subscription_id
        if not reference:
            return False
        try:
            with httpx.Client(transport=TRANSPORT, timeout=10) as client:
                response = client.get(
                    # The id comes from an unsigned body: quoted, it can only name one record.
                    f"{settings.CCBILL_API_URL.rstrip('/')}/transactions/{quote(reference, safe='')}",
                    headers={"Authorization": f"Bearer {settings.CCBILL_API_TOKEN}"},
                )
            record = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return False
        if not isinstance(record, dict):
            return False
        ids = {str(record.get("transactionId") or ""), str(record.get("subscriptionId") or "")}
        if reference not in ids:
            return False
        purchase = str(record.get("X-purchase") or "")
        if purchase and event.purchase_reference and purchase != event.purchase_reference:
            return False
        # A payment must match the record's amount; a refund or chargeback
        # names its own (maybe partial) amount, judged later against the purchase.
        if (
            event.type in (EventType.PAYMENT_SUCCEEDED, EventType.SUBSCRIPTION_RENEWED)
            and event.amount_cents is not None
        ):
            try:
                recorded = _cents(record.get("billedAmount") or record.get("accountingAmount") or record.get("amount"))
            except (TypeError, ValueError):
                return False
            if recorded != event.amount_cents:
                return False
        return True

    def parse_webhook(self, *, body: bytes, headers, client_ip: str) -> list[NormalizedEvent]:
        if not self._ip_allowed(client_ip):
            raise WebhookRejected("source address not in CCBILL_WEBHOOK_ALLOWED_NETWORKS")
        try:
            if body.strip().startswith(b"{"):
                data = json.loads(body)
            else:
                data = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            kind = str(data.get("eventType") or headers.get("X-CCBill-Event-Type", ""))
            if not kind:
                raise KeyError("eventType")
            payment = str(data.get("transactionId", ""))
            subscription = str(data.get("subscriptionId", ""))
            renewal = data.get("nextRenewalDate") or data.get("renewalDate")
            event = NormalizedEvent(
                event_id=f"{kind}:{payment or subscription}:{data.get('timestamp', '')}",
                type=_TYPES.get(kind, EventType.UNKNOWN),
                raw_type=kind,
                purchase_reference=str(data.get("X-purchase", "")),
                payment_reference=payment,
                subscription_id=subscription,
                period_end=datetime.datetime.fromisoformat(renewal).replace(tzinfo=datetime.UTC) if renewal else None,
                amount_cents=_cents(
                    data.get("billedInitialPrice") or data.get("accountingAmount") or data.get("amount")
                ),
                payload=data,
            )
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise WebhookRejected("malformed CCBill event")
        if event.type != EventType.UNKNOWN and not self.confirm(event):
            raise WebhookRejected("transaction could not be confirmed with CCBill")
        return [event]

    def cancel_subscription(self, subscription_id: str) -> None:
        # CCBill cancellations go through its Subscription Management API or the
        # member's own CCBill page; the Cancellation webhook ends access.
        return None

    def refund(self, payment_reference: str, amount_cents: int) -> None:
        raise NotImplementedError("CCBill refunds are issued from the CCBill admin; the Refund webhook applies them")

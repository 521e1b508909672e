"""Registry of payment gateways.  Only the sandbox is on by default; the
others switch on when their settings are present."""

from __future__ import annotations

from marquee.billing.gateways.base import (
    CheckoutRequest,
    CheckoutSession,
    EventType,
    Gateway,
    GatewayNotConfigured,
    NormalizedEvent,
    WebhookRejected,
)

__all__ = [
    "CheckoutRequest",
    "CheckoutSession",
    "EventType",
    "Gateway",
    "GatewayNotConfigured",
    "NormalizedEvent",
    "WebhookRejected",
    "enabled_gateways",
    "get_gateway",
]


def _all() -> dict[str, Gateway]:
    from marquee.billing.gateways.btcpay.gateway import BTCPayGateway
    from marquee.billing.gateways.ccbill.gateway import CCBillGateway
    from marquee.billing.gateways.paypal.gateway import PayPalGateway
    from marquee.billing.gateways.sandbox.gateway import SandboxGateway
    from marquee.billing.gateways.stripe.gateway import StripeGateway

    gateways = (SandboxGateway(), StripeGateway(), CCBillGateway(), BTCPayGateway(), PayPalGateway())
    return {g.name: g for g in gateways}


def get_gateway(name: str, *, require_enabled: bool = True) -> Gateway:
    gateway = _all().get(name)
    if gateway is None or (require_enabled and not gateway.is_enabled()):
        raise GatewayNotConfigured(f"payment provider {name!r} is not enabled")
    return gateway


def enabled_gateways() -> list[Gateway]:
    return [g for g in _all().values() if g.is_enabled()]

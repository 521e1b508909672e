"""The billing descriptor setting reaches the gateway (what a bank statement shows)."""

from __future__ import annotations

import stripe

from marquee.billing import services
from marquee.lib.geo import UNKNOWN


def test_stripe_checkout_carries_the_descriptor(settings, viewer, monkeypatch):
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_x"
    settings.BILLING_DESCRIPTOR = "ACME SVCS"
    sent = {}

    def create(**kwargs):
        sent.update(kwargs)
        return stripe.checkout.Session.construct_from(
            {"id": "cs_test_1", "object": "checkout.session", "url": "https://checkout.stripe.com/c/pay/cs_test_1"},
            "sk_test_x",
        )

    monkeypatch.setattr("stripe.checkout.Session.create", create)
    services.start_checkout(
        user=viewer,
        location=UNKNOWN,
        product="tokens",
        pack="small",
        provider="stripe",
        success_url_for=lambda p: "https://example.test/back",
    )
    assert sent["payment_intent_data"] == {"statement_descriptor_suffix": "ACME SVCS"}

"""Every write of the money capability, one module per job: ``checkout``
(purchases, fulfilment, refunds), ``webhooks``, ``subscriptions``, ``tips``,
``payouts`` and the ``sandbox`` provider's actions.

These services decide whether and when; what moves where is built only in
``marquee.billing.money`` and every price or limit is checked only in
``marquee.billing.prices``.  Callers use ``services.<name>``: the names are
re-exported here."""

from marquee.billing.errors import BillingError  # surfaces catch it as ``services.BillingError``
from marquee.billing.services.checkout import (
    fulfil_purchase,
    refund_show_tickets,
    reverse_purchase,
    start_checkout,
)
from marquee.billing.services.payouts import (
    release_due_earnings,
    request_payout,
    request_scheduled_payouts,
    settle_payout,
    update_payout_settings,
)
from marquee.billing.services.sandbox import sandbox_complete_checkout, sandbox_emit, sandbox_reverse, staff_refund
from marquee.billing.services.subscriptions import (
    cancel_subscription,
    end_subscription,
    mark_subscription_past_due,
    renew_subscription,
)
from marquee.billing.services.tips import send_tip
from marquee.billing.services.webhooks import apply_event, process_webhook

__all__ = [
    "BillingError",
    "apply_event",
    "cancel_subscription",
    "end_subscription",
    "fulfil_purchase",
    "mark_subscription_past_due",
    "process_webhook",
    "refund_show_tickets",
    "release_due_earnings",
    "renew_subscription",
    "request_payout",
    "request_scheduled_payouts",
    "reverse_purchase",
    "sandbox_complete_checkout",
    "sandbox_emit",
    "sandbox_reverse",
    "send_tip",
    "settle_payout",
    "staff_refund",
    "start_checkout",
    "update_payout_settings",
]

import httpx
from celery import shared_task

from marquee.billing.gateways.paypal import client, flow
from marquee.lib.errors import DomainError


@shared_task(bind=True, max_retries=10)
def collect_payment(self, *, purchase_reference: str, order_id: str = "", subscription_id: str = "") -> str:
    """Capture an approved order / book a subscription's first payment (PayPal's approval webhooks)."""
    try:
        outcome = flow.complete(
            purchase_reference=purchase_reference, order_id=order_id, subscription_id=subscription_id
        )
    except DomainError as exc:
        if exc.status < 500 or self.request.is_eager:
            raise
        outcome = flow.PENDING  # PayPal unreachable: look again later
    if outcome == flow.PENDING and self.request.retries < self.max_retries and not self.request.is_eager:
        raise self.retry(countdown=60)
    return outcome


@shared_task(autoretry_for=(client.PayPalError, httpx.HTTPError), retry_backoff=60, max_retries=8)
def cancel_subscription(*, subscription_id: str) -> None:
    """Tell PayPal to stop billing (the viewer keeps access until the paid period ends)."""
    from marquee.billing.gateways.paypal.gateway import PayPalGateway

    PayPalGateway().cancel_now(subscription_id)

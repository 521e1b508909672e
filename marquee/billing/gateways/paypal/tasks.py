from celery import shared_task

from marquee.billing.gateways.paypal import flow


@shared_task(bind=True, max_retries=10)
def collect_payment(self, *, purchase_reference: str, order_id: str = "", subscription_id: str = "") -> str:
    """Capture an approved order / book a subscription's first payment (PayPal's approval webhooks)."""
    outcome = flow.complete(purchase_reference=purchase_reference, order_id=order_id, subscription_id=subscription_id)
    if outcome == flow.PENDING and self.request.retries < self.max_retries and not self.request.is_eager:
        raise self.retry(countdown=60)
    return outcome

from celery import shared_task

from marquee.billing import services
from marquee.billing.gateways.paypal.tasks import collect_payment  # noqa: F401  (registers it with the worker)


@shared_task
def release_due_earnings() -> int:
    """Pending → available once the hold is over (beat: hourly)."""
    return services.release_due_earnings()


@shared_task(name="marquee.billing.tasks.request_scheduled_payouts")
def request_scheduled_payouts() -> int:
    """Weekly / monthly payouts that are due (beat: hourly; once per period)."""
    return services.request_scheduled_payouts()

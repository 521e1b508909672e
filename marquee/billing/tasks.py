from celery import shared_task

from marquee.billing import services
from marquee.billing.gateways.paypal.tasks import collect_payment  # noqa: F401  (registers it with the worker)


@shared_task
def release_due_earnings() -> int:
    """Pending → available once the hold is over (beat: hourly)."""
    return services.release_due_earnings()


@shared_task
def settle_ticket_shows() -> int:
    """Refund the tickets of no-shows and of shows ended too early (beat: every minute)."""
    return services.settle_ticket_shows()


@shared_task
def settle_ended_show(show_id: int) -> int:
    """One show just ended (the ``show.ended`` domain event): refund its tickets if it was too short."""
    return services.settle_ended_show(show_id=show_id)

from celery import shared_task

from marquee.privates import services


@shared_task
def tick() -> int:
    """Bill due periods, expire unanswered requests, fail group shows past their deadline."""
    services.expire_requests()
    services.fail_due_group_shows()
    return services.bill_due_periods()


@shared_task
def sweep_holds() -> int:
    return services.sweep_holds()

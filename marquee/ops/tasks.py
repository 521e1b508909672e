from celery import shared_task

from marquee.ops import services


@shared_task
def integrity_checks() -> dict:
    return services.run_integrity_checks()

from celery import shared_task

from marquee.privacy import services


@shared_task
def finalize_closures() -> int:
    return services.finalize_due_closures()

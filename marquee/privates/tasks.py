from celery import shared_task
from django.conf import settings

from marquee.privates import services


@shared_task
def tick() -> int:
    """Expire unanswered requests, fail group shows past their deadline, bill
    due periods.  With ``PRIVATE_TICK_WORKERS`` > 1 it also queues that many
    more billing passes, which share the due set room by room (SKIP LOCKED)."""
    services.expire_requests()
    services.fail_due_group_shows()
    for _ in range(settings.PRIVATE_TICK_WORKERS - 1):
        bill.delay()
    return services.bill_due_periods()


@shared_task
def bill() -> int:
    """One billing pass over the due sessions (with others at once, if queued)."""
    return services.bill_due_periods()


@shared_task
def sweep_holds() -> int:
    return services.sweep_holds()


@shared_task
def process_recording(recording_id: int) -> bool:
    """Remux a finished private-show recording into the content storage."""
    recording = services.recordings.process(recording_id)
    return recording is not None and recording.status == recording.Status.READY


@shared_task
def delete_expired_recordings() -> int:
    return services.recordings.delete_expired()

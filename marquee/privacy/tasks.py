from celery import shared_task
from django.utils import timezone

from marquee.privacy import retention, services


@shared_task(name="marquee.privacy.tasks.finalize_closures")
def finalize_closures() -> int:
    return services.finalize_due_closures()


@shared_task(name="marquee.privacy.tasks.build_export")
def build_export(export_id: int) -> None:
    services.build_export(export_id=export_id)


@shared_task(name="marquee.privacy.tasks.enforce_retention")
def enforce_retention() -> dict:
    now = timezone.now()
    counts = retention.enforce(now=now)
    counts["exports"] = services.expire_exports(now=now)
    return counts

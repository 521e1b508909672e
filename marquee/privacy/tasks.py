from celery import shared_task

from marquee.privacy import services


@shared_task(name="marquee.privacy.tasks.finalize_closures")
def finalize_closures() -> int:
    return services.finalize_due_closures()


@shared_task(name="marquee.privacy.tasks.build_export")
def build_export(export_id: int) -> None:
    services.build_export(export_id=export_id)

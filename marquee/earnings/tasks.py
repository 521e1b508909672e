from __future__ import annotations

import datetime

from celery import shared_task
from django.utils import timezone

from marquee.earnings import selectors
from marquee.ledger.models import Transfer
from marquee.performers.models import Performer


@shared_task(name="marquee.earnings.tasks.refresh_rollups")
def refresh_rollups() -> int:
    """Summarize yesterday for performers who earned recently, so the first
    dashboard view of the day needs no ledger scan."""
    since = timezone.now() - datetime.timedelta(days=2)
    ids = Transfer.objects.filter(created_at__gte=since, performer__isnull=False).values("performer_id").distinct()
    count = 0
    for performer in Performer.objects.filter(pk__in=ids):
        selectors.earnings(performer, "month")
        count += 1
    return count

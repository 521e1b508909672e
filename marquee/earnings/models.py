"""A cache of daily earnings, derived only from ledger transfers.

Nothing here is a source of truth: every row can be deleted and is recomputed
from ``ledger.Transfer`` on the next read.  It exists so the dashboard stays
fast with millions of transfers (docs/benchmarks.md, "Dashboard")."""

from __future__ import annotations

from django.db import models

from marquee.performers.models import Performer


class EarningsDay(models.Model):
    """One performer-local day: ``totals`` maps source → [gross, net, count]
    (cents; refunds and chargebacks already subtracted on the day they happened)."""

    performer = models.ForeignKey(Performer, on_delete=models.CASCADE, related_name="+")
    timezone = models.CharField(max_length=64)
    day = models.DateField()
    totals = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["performer", "timezone", "day"], name="earningsday_unique"),
        ]

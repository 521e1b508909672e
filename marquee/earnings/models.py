"""A cache of daily earnings, derived only from ledger transfers.

Nothing here is a source of truth: every row can be deleted and is recomputed
from ``ledger.Transfer`` on the next read.  It exists so the dashboard stays
fast with millions of transfers (docs/benchmarks.md, "Dashboard")."""

from __future__ import annotations

from django.db import models

from marquee.performers.models import Performer


class EarningsDay(models.Model):
    """One performer-local day: ``totals`` maps source → [gross, net, count]
    (cents; refunds and chargebacks already subtracted on the day they happened);
    the ``private`` cell has a fourth number, the tokens its periods cost."""

    performer = models.ForeignKey(Performer, on_delete=models.CASCADE, related_name="+")
    timezone = models.CharField(max_length=64)
    day = models.DateField()
    totals = models.JSONField(default=dict)
    # release date (ISO) → net cents that day's earnings (minus that day's reversals) leave pending.
    releases = models.JSONField(default=dict)
    # Top supporters of the SUPPORTER_WINDOW_DAYS − 1 closed days ending here: [[user_id, gross, net, count], …].
    top_supporters = models.JSONField(null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["performer", "timezone", "day"], name="earningsday_unique"),
        ]


class SupporterDay(models.Model):
    """What one supporter paid one performer on one performer-local day
    (reversals subtracted).  Kept only for the top-supporters window."""

    performer = models.ForeignKey(Performer, on_delete=models.CASCADE, related_name="+")
    timezone = models.CharField(max_length=64)
    day = models.DateField()
    user_id = models.BigIntegerField()
    gross_cents = models.BigIntegerField()
    net_cents = models.BigIntegerField()
    count = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["performer", "timezone", "day", "user_id"], name="supporterday_unique"),
        ]
        indexes = [
            # Covering (PostgreSQL): the 30-day top-supporters sum is an index-only scan.
            models.Index(
                fields=["performer", "timezone", "day"],
                include=["user_id", "gross_cents", "net_cents", "count"],
                name="supporterday_window",
            )
        ]

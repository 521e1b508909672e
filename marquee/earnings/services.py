"""Earnings roll-up writes: the ``EarningsDay``/``SupporterDay`` cache of
closed days (derived from the ledger; never a source of truth)."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction

from marquee.earnings.aggregates import (
    _SUPPORTER_SPAN,
    TOP_KEPT,
    _aggregate_releases,
    _aggregate_supporters,
    _closed_window,
    _supporter_sums,
)
from marquee.earnings.models import EarningsDay, SupporterDay


def store_days(performer, zone, days: list, totals: dict, now) -> None:
    releases = _aggregate_releases(performer, zone, days[0], days[-1])
    # Per-supporter rows are only ever read for the last SUPPORTER_WINDOW_DAYS days.
    horizon = now.astimezone(zone).date() - _SUPPORTER_SPAN
    recent = [d for d in days if d > horizon]
    supporters = _aggregate_supporters(performer, zone, recent[0], recent[-1]) if recent else {}
    rows = [
        EarningsDay(
            performer=performer,
            timezone=zone.key,
            day=day,
            totals=totals[day],
            releases=dict(releases.get(day, {})),
            computed_at=now,
        )
        for day in days
    ]
    supporter_rows = [
        SupporterDay(
            performer=performer,
            timezone=zone.key,
            day=day,
            user_id=int(user_id),
            gross_cents=gross,
            net_cents=net,
            count=count,
        )
        for day in recent
        for user_id, (gross, net, count) in supporters.get(day, {}).items()
    ]
    try:
        with transaction.atomic():
            EarningsDay.objects.bulk_create(rows, ignore_conflicts=True)
            SupporterDay.objects.bulk_create(supporter_rows, ignore_conflicts=True, batch_size=5000)
            SupporterDay.objects.filter(performer=performer, day__lte=horizon).delete()
            if recent:
                store_window_top(performer, zone, recent[-1])
    except IntegrityError:  # a concurrent reader stored the same days first
        pass


def store_window_top(performer, zone, last: datetime.date) -> None:
    """Keep the closed-window top supporters on the row of its last day."""
    sums = _supporter_sums(performer, zone, *_closed_window(last))
    top = sorted(sums.items(), key=lambda item: (-item[1][0], item[0]))[:TOP_KEPT]
    EarningsDay.objects.filter(performer=performer, timezone=zone.key, day=last).update(
        top_supporters=[[uid, *values] for uid, values in top]
    )

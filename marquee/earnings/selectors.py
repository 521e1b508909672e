"""Earnings analytics, read only from the ledger (``marquee.ledger.selectors``
and its ``Transfer`` rows, aggregated in ``aggregates``).  ``EarningsDay`` is
a derived cache of closed days written by ``services`` on first read; the
current day is always read live."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Sum
from django.utils import timezone

from marquee.billing.selectors import tip_goal_progress  # noqa: F401  (the one rule lives in billing)
from marquee.earnings import services
from marquee.earnings.aggregates import (
    _ONE_DAY,
    GRANULARITIES,
    REVERSAL_KINDS,
    SOURCE_LABELS,
    SOURCES,
    SUPPORTER_WINDOW_DAYS,
    _aggregate_days,
    _aggregate_releases,
    _aggregate_supporters,
    _closed_window,
    _days,
    _midnight,
    _supporter_sums,
    _zone,
    private_show_time,
)
from marquee.earnings.models import EarningsDay
from marquee.ledger import selectors as ledger
from marquee.ledger.models import TransferKind


def daily_totals(performer, first: datetime.date, last: datetime.date) -> dict:
    """{day: {source: [gross, net, count]}} for every local day in first..last.

    Closed days come from the ``EarningsDay`` cache, filled from the ledger on
    first use (once the day has been over ``EARNINGS_ROLLUP_SETTLE_MINUTES``);
    the rest is aggregated live."""
    zone = _zone(performer)
    now = timezone.now()
    settle = datetime.timedelta(minutes=settings.EARNINGS_ROLLUP_SETTLE_MINUTES)
    cached = dict(
        EarningsDay.objects.filter(performer=performer, timezone=zone.key, day__range=(first, last)).values_list(
            "day", "totals"
        )
    )
    result = dict(cached)
    missing = [d for d in _days(first, last) if d not in cached]
    if missing:
        fresh = _aggregate_days(performer, zone, min(missing), max(missing))
        for day in missing:
            result[day] = fresh.get(day, {})
        settled = sorted(d for d in missing if now >= _midnight(d, zone) + _ONE_DAY + settle)
        if settled:
            services.store_days(performer, zone, settled, result, now)
    return result


def _bucket_start(day: datetime.date, granularity: str) -> datetime.date:
    if granularity == "week":
        return day - datetime.timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return day


def _window(granularity: str, today: datetime.date) -> list[datetime.date]:
    count = GRANULARITIES[granularity]
    if granularity == "day":
        return [today - datetime.timedelta(days=count - 1 - i) for i in range(count)]
    if granularity == "week":
        monday = _bucket_start(today, "week")
        return [monday - datetime.timedelta(weeks=count - 1 - i) for i in range(count)]
    starts = []
    month = today.replace(day=1)
    for _ in range(count):
        starts.insert(0, month)
        month = (month - _ONE_DAY).replace(day=1)
    return starts


def _label(start: datetime.date, granularity: str) -> str:
    if granularity == "month":
        return start.strftime("%b %Y")
    if granularity == "week":
        return f"Week of {start:%d %b}"
    return start.strftime("%d %b")


@dataclass
class Earnings:
    granularity: str
    timezone: str
    periods: list[dict] = field(default_factory=list)  # [{start, label, sources: {source: [g, n, c]}}]
    totals: dict = field(default_factory=dict)  # {source: {gross, fee, net, count}}; private also minutes, tokens
    gross: int = 0
    fee: int = 0
    net: int = 0

    def chart_series(self) -> dict:
        return {
            "labels": [p["label"] for p in self.periods],
            "sources": list(SOURCES),
            "source_labels": SOURCE_LABELS,
            "values": {s: [p["sources"].get(s, [0, 0, 0])[1] for p in self.periods] for s in SOURCES},
        }

    def chart_totals(self) -> dict:
        return {"by_source": self.totals, "source_labels": SOURCE_LABELS}

    def csv_rows(self):
        yield ["period_start", "source", "gross_cents", "platform_fee_cents", "net_cents", "transactions"]
        for period in self.periods:
            for source in SOURCES:
                gross, net, count = period["sources"].get(source, [0, 0, 0])
                yield [period["start"].isoformat(), source, gross, gross - net, net, count]


def earnings(performer, granularity: str = "day") -> Earnings:
    """Gross, platform fee and net by period and source, in the performer's timezone."""
    if granularity not in GRANULARITIES:
        granularity = "day"
    zone = _zone(performer)
    today = timezone.now().astimezone(zone).date()
    starts = _window(granularity, today)
    days = daily_totals(performer, starts[0], today)
    buckets = {start: defaultdict(lambda: [0, 0, 0]) for start in starts}
    private_periods = private_tokens = 0
    for day, sources in days.items():
        bucket = buckets.get(_bucket_start(day, granularity))
        if bucket is None:
            continue
        for source, (gross, net, count, *tokens) in sources.items():
            cell = bucket[source]
            cell[0] += gross
            cell[1] += net
            cell[2] += count
            if source == "private":
                private_periods += count
                private_tokens += sum(tokens)
    result = Earnings(granularity=granularity, timezone=zone.key)
    totals = {s: {"gross": 0, "fee": 0, "net": 0, "count": 0} for s in SOURCES}
    for start in starts:
        sources = dict(buckets[start])
        result.periods.append({"start": start, "label": _label(start, granularity), "sources": sources})
        for source, (gross, net, count) in sources.items():
            row = totals.setdefault(source, {"gross": 0, "fee": 0, "net": 0, "count": 0})
            row["gross"] += gross
            row["net"] += net
            row["fee"] += gross - net
            row["count"] += count
    # Private shows are sold by the minute: their totals say how many, and for how many tokens.
    # (from the daily roll-up: a 12-month window no longer reads every period's entries)
    totals["private"].update(private_show_time(private_periods, private_tokens))
    result.totals = totals
    result.gross = sum(r["gross"] for r in totals.values())
    result.net = sum(r["net"] for r in totals.values())
    result.fee = result.gross - result.net
    return result


def balances(performer) -> dict:
    """Pending and available earnings (the ledger's account balances) and
    when pending amounts are released (by ``available_at`` date, refunds and
    chargebacks subtracted; dates from today on)."""
    zone = _zone(performer)
    today = timezone.now().astimezone(zone).date()
    accounts = ledger.performer_balances(performer)
    # Make sure recent days are summarized, then add the live (unsummarized) days.
    daily_totals(performer, today - datetime.timedelta(days=GRANULARITIES["day"] - 1), today)
    stored = EarningsDay.objects.filter(performer=performer, timezone=zone.key).values_list("day", "releases")
    by_date: dict = defaultdict(int)
    summarized = set()
    for day, releases in stored:
        summarized.add(day)
        for date, net in releases.items():
            by_date[date] += net
    live = [d for d in _days(today - datetime.timedelta(days=2), today) if d not in summarized]
    if live:
        for releases in _aggregate_releases(performer, zone, min(live), max(live)).values():
            for date, net in releases.items():
                by_date[date] += net
    upcoming = sorted(
        (datetime.date.fromisoformat(date), net) for date, net in by_date.items() if net and date >= today.isoformat()
    )
    return {
        "pending": accounts["performer_pending"],
        "available": accounts["performer_available"],
        "in_flight": accounts["payouts_in_flight"],
        "releases": [{"date": date, "net": net} for date, net in upcoming],
    }


def top_supporters(performer, *, limit: int = 10) -> list[dict]:
    """Who paid the most over the last SUPPORTER_WINDOW_DAYS local days (today
    included), net of refunds and chargebacks made in that window.

    Fast path: yesterday's row keeps the top 100 of the closed days; anyone who
    can still reach the top ``limit`` is in it or paid today, so only today's
    supporters need their closed-window sums looked up."""
    from marquee.accounts.models import User

    zone = _zone(performer)
    today = timezone.now().astimezone(zone).date()
    yesterday = today - _ONE_DAY
    daily_totals(performer, today - datetime.timedelta(days=SUPPORTER_WINDOW_DAYS - 1), today)
    closed = (
        EarningsDay.objects.filter(performer=performer, timezone=zone.key, day=yesterday)
        .values_list("top_supporters", flat=True)
        .first()
    )
    first, last = _closed_window(yesterday)
    live: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    live_days = [today] if closed is not None else list(_days(first, today))
    if closed is None:
        # Yesterday not summarized yet (first hour of the day): sum whatever is stored, the rest live.
        stored_days = set(
            EarningsDay.objects.filter(performer=performer, timezone=zone.key, day__range=(first, today)).values_list(
                "day", flat=True
            )
        )
        live_days = [d for d in live_days if d not in stored_days]
    if live_days:
        for supporters in _aggregate_supporters(performer, zone, min(live_days), max(live_days)).values():
            for user_id, (gross, net, count) in supporters.items():
                cell = live[int(user_id)]
                cell[0] += gross
                cell[1] += net
                cell[2] += count
    if closed is not None:
        totals = {uid: [g, n, c] for uid, g, n, c in closed}
        missing = [uid for uid in live if uid not in totals]
        totals.update(_supporter_sums(performer, zone, first, last, missing) if missing else {})
    else:
        totals = _supporter_sums(performer, zone, first, today)
    for uid, (gross, net, count) in live.items():
        cell = totals.setdefault(uid, [0, 0, 0])
        cell[0] += gross
        cell[1] += net
        cell[2] += count
    top = sorted(((v, uid) for uid, v in totals.items() if v[0] > 0), key=lambda item: (-item[0][0], item[1]))[:limit]
    names = dict(User.objects.filter(pk__in=[uid for _, uid in top]).values_list("pk", "username"))
    return [{"username": names.get(uid, ""), "gross": g, "net": n, "count": c} for (g, n, c), uid in top]


def show_summaries(performer, *, limit: int = 10) -> list[dict]:
    """Recent ended shows: duration, peak viewers and the tips received while live."""
    from marquee.shows.models import Show

    shows = list(
        Show.objects.filter(performer=performer, status=Show.Status.ENDED, started_at__isnull=False)
        .exclude(ended_at__isnull=True)
        .order_by("-started_at")[:limit]
    )
    summaries = []
    for show in shows:
        tips = (
            ledger.earnings_transfers(performer, since=show.started_at, until=show.ended_at)
            .filter(kind=TransferKind.TIP)
            .exclude(followups__kind__in=REVERSAL_KINDS)
            .aggregate(gross=Sum("gross_cents"), net=Sum("performer_cents"), n=Count("id"))
        )
        summaries.append(
            {
                "show": show,
                "id": show.pk,
                "title": show.title,
                "started_at": show.started_at,
                "duration_minutes": int((show.ended_at - show.started_at).total_seconds() // 60),
                "peak_viewers": show.peak_viewers,
                "tips_gross": int(tips["gross"] or 0),
                "tips_net": int(tips["net"] or 0),
                "tips_count": tips["n"],
            }
        )
    return summaries

"""Earnings analytics, read only from the ledger (``marquee.ledger.selectors``
and its ``Transfer`` rows).  ``EarningsDay`` is a derived cache of closed
days; the current day is always read live."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from marquee.earnings.models import EarningsDay
from marquee.ledger import selectors as ledger
from marquee.ledger.models import EARNING_KINDS, Transfer, TransferKind

SOURCE_OF_KIND = {
    TransferKind.TIP: "tips",
    TransferKind.TICKET: "tickets",
    TransferKind.SUBSCRIPTION: "subscriptions",
    TransferKind.PRIVATE: "private",
    TransferKind.CONTENT: "content",
}
SOURCES = ("tips", "tickets", "subscriptions", "private", "content")
SOURCE_LABELS = {
    "tips": "Tips",
    "tickets": "Show tickets",
    "subscriptions": "Subscriptions",
    "private": "Private shows",
    "content": "Content sales",
}
REVERSAL_KINDS = (TransferKind.REFUND, TransferKind.CHARGEBACK)
GRANULARITIES = {"day": 30, "week": 12, "month": 12}  # how many buckets each view shows
SUPPORTER_WINDOW_DAYS = 30


def _zone(performer) -> ZoneInfo:
    try:
        return ZoneInfo(performer.timezone or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def _midnight(day: datetime.date, zone: ZoneInfo) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)


def _aggregate_days(performer, zone, first: datetime.date, last: datetime.date) -> dict:
    """{day: {source: [gross, net, count]}} for local days first..last, from ledger transfers."""
    rows = (
        ledger.earnings_transfers(performer, since=_midnight(first, zone), until=_midnight(last, zone) + _ONE_DAY)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day", "kind", "related__kind")
        .annotate(gross=Sum("gross_cents"), net=Sum("performer_cents"), n=Count("id"))
        .order_by()
    )
    days: dict = defaultdict(dict)
    for row in rows:
        reversal = row["kind"] in REVERSAL_KINDS
        source = SOURCE_OF_KIND.get(row["related__kind"] if reversal else row["kind"])
        if source is None:
            continue
        sign = -1 if reversal else 1
        cell = days[row["day"]].setdefault(source, [0, 0, 0])
        cell[0] += sign * int(row["gross"] or 0)
        cell[1] += sign * int(row["net"] or 0)
        cell[2] += 0 if reversal else int(row["n"])
    return days


_ONE_DAY = datetime.timedelta(days=1)


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
        settled = []
        for day in missing:
            result[day] = fresh.get(day, {})
            if now >= _midnight(day, zone) + _ONE_DAY + settle:
                settled.append(
                    EarningsDay(performer=performer, timezone=zone.key, day=day, totals=result[day], computed_at=now)
                )
        if settled:
            try:
                with transaction.atomic():
                    EarningsDay.objects.bulk_create(settled, ignore_conflicts=True)
            except IntegrityError:  # a concurrent reader stored them first: same values
                pass
    return result


def _days(first: datetime.date, last: datetime.date):
    day = first
    while day <= last:
        yield day
        day += _ONE_DAY


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
    totals: dict = field(default_factory=dict)  # {source: {gross, fee, net, count}}
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
    for day, sources in days.items():
        bucket = buckets.get(_bucket_start(day, granularity))
        if bucket is None:
            continue
        for source, (gross, net, count) in sources.items():
            cell = bucket[source]
            cell[0] += gross
            cell[1] += net
            cell[2] += count
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
    result.totals = totals
    result.gross = sum(r["gross"] for r in totals.values())
    result.net = sum(r["net"] for r in totals.values())
    result.fee = result.gross - result.net
    return result


def balances(performer) -> dict:
    """Pending and available earnings (the ledger's account balances) and
    when each pending amount is released."""
    zone = _zone(performer)
    accounts = ledger.performer_balances(performer)
    schedule = (
        Transfer.objects.filter(
            performer=performer, kind__in=[k.value for k in EARNING_KINDS], available_at__gt=timezone.now()
        )
        .exclude(followups__kind__in=["release", *REVERSAL_KINDS])
        .annotate(day=TruncDate("available_at", tzinfo=zone))
        .values("day")
        .annotate(net=Sum("performer_cents"))
        .order_by("day")
    )
    return {
        "pending": accounts["performer_pending"],
        "available": accounts["performer_available"],
        "in_flight": accounts["payouts_in_flight"],
        "releases": [{"date": row["day"], "net": int(row["net"])} for row in schedule],
    }


def top_supporters(performer, *, limit: int = 10, days: int = SUPPORTER_WINDOW_DAYS) -> list[dict]:
    """Who paid the most in the last ``days`` days, net of refunds and
    chargebacks made in that window (a reversal carries its original's
    supporter and amounts)."""
    from marquee.accounts.models import User

    since = timezone.now() - datetime.timedelta(days=days)
    rows = (
        ledger.earnings_transfers(performer, since=since)
        .filter(user__isnull=False)
        .values("user_id", "kind")
        .annotate(gross=Sum("gross_cents"), net=Sum("performer_cents"), n=Count("id"))
        .order_by()
    )
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        sign = -1 if row["kind"] in REVERSAL_KINDS else 1
        cell = totals[row["user_id"]]
        cell[0] += sign * int(row["gross"])
        cell[1] += sign * int(row["net"])
        cell[2] += sign * row["n"]
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


def tip_goal_progress(performer) -> dict | None:
    """Tokens tipped toward the room's goal during the current live show
    (the goal restarts with every show); None when there is no goal or no live show."""
    from marquee.shows.models import Show

    if not performer.tip_goal_tokens:
        return None
    show = Show.objects.filter(performer=performer, status=Show.Status.LIVE).only("started_at").first()
    if show is None or show.started_at is None:
        return None
    gross = (
        ledger.earnings_transfers(performer, since=show.started_at)
        .filter(kind=TransferKind.TIP)
        .exclude(followups__kind__in=REVERSAL_KINDS)
        .aggregate(total=Sum("gross_cents"))["total"]
        or 0
    )
    tokens = int(gross) // settings.TOKEN_VALUE_CENTS
    goal = performer.tip_goal_tokens
    return {
        "label": performer.tip_goal_label,
        "goal": goal,
        "tokens": tokens,
        "percent": min(100, tokens * 100 // goal),
        "reached": tokens >= goal,
    }

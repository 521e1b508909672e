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

from marquee.billing.selectors import tip_goal_progress  # noqa: F401  (the one rule lives in billing)
from marquee.earnings.models import EarningsDay, SupporterDay
from marquee.ledger import selectors as ledger
from marquee.ledger.models import EARNING_KINDS, TransferKind

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
_SUPPORTER_SPAN = datetime.timedelta(days=SUPPORTER_WINDOW_DAYS)


def _aggregate_supporters(performer, zone, first: datetime.date, last: datetime.date) -> dict:
    """{day: {user_id: [gross, net, count]}} for local days first..last (reversals subtracted)."""
    rows = (
        ledger.earnings_transfers(performer, since=_midnight(first, zone), until=_midnight(last, zone) + _ONE_DAY)
        .filter(user__isnull=False)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day", "user_id", "kind")
        .annotate(gross=Sum("gross_cents"), net=Sum("performer_cents"), n=Count("id"))
        .order_by()
    )
    days: dict = defaultdict(dict)
    for row in rows:
        sign = -1 if row["kind"] in REVERSAL_KINDS else 1
        cell = days[row["day"]].setdefault(str(row["user_id"]), [0, 0, 0])
        cell[0] += sign * int(row["gross"])
        cell[1] += sign * int(row["net"])
        cell[2] += sign * row["n"]
    return days


def _aggregate_releases(performer, zone, first: datetime.date, last: datetime.date) -> dict:
    """{day: {release date ISO: net}}: when the earnings made (or reversed) on each local day leave pending."""
    base = ledger.earnings_transfers(
        performer, since=_midnight(first, zone), until=_midnight(last, zone) + _ONE_DAY
    ).annotate(day=TruncDate("created_at", tzinfo=zone))
    earned = (
        base.filter(kind__in=[k.value for k in EARNING_KINDS], available_at__isnull=False)
        .annotate(release=TruncDate("available_at", tzinfo=zone))
        .values("day", "release")
        .annotate(net=Sum("performer_cents"))
        .order_by()
    )
    reversed_ = (
        base.filter(kind__in=REVERSAL_KINDS, related__available_at__isnull=False)
        .annotate(release=TruncDate("related__available_at", tzinfo=zone))
        .values("day", "release")
        .annotate(net=Sum("performer_cents"))
        .order_by()
    )
    days: dict = defaultdict(lambda: defaultdict(int))
    for sign, rows in ((1, earned), (-1, reversed_)):
        for row in rows:
            days[row["day"]][row["release"].isoformat()] += sign * int(row["net"])
    return days


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
            _store_days(performer, zone, settled, result, now)
    return result


def _store_days(performer, zone, days: list, totals: dict, now) -> None:
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
                _store_window_top(performer, zone, recent[-1])
    except IntegrityError:  # a concurrent reader stored the same days first
        pass


TOP_KEPT = 100  # enough that today's payments cannot lift anyone else into the top 10


def _closed_window(last: datetime.date) -> tuple[datetime.date, datetime.date]:
    return last - datetime.timedelta(days=SUPPORTER_WINDOW_DAYS - 2), last


def _supporter_sums(performer, zone, first, last, user_ids=None) -> dict[int, list[int]]:
    rows = SupporterDay.objects.filter(performer=performer, timezone=zone.key, day__range=(first, last))
    if user_ids is not None:
        rows = rows.filter(user_id__in=user_ids)
    rows = rows.values("user_id").annotate(g=Sum("gross_cents"), n=Sum("net_cents"), c=Sum("count")).order_by()
    return {r["user_id"]: [int(r["g"]), int(r["n"]), int(r["c"])] for r in rows}


def _store_window_top(performer, zone, last: datetime.date) -> None:
    """Keep the closed-window top supporters on the row of its last day."""
    sums = _supporter_sums(performer, zone, *_closed_window(last))
    top = sorted(sums.items(), key=lambda item: (-item[1][0], item[0]))[:TOP_KEPT]
    EarningsDay.objects.filter(performer=performer, timezone=zone.key, day=last).update(
        top_supporters=[[uid, *values] for uid, values in top]
    )


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

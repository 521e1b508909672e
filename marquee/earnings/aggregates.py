"""Earnings aggregated from the ledger (``marquee.ledger.selectors`` and its
``Transfer`` rows) by performer-local day: the reads both the selectors and
the roll-up writes build on."""

from __future__ import annotations

import datetime
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from marquee.earnings.models import SupporterDay
from marquee.ledger import selectors as ledger
from marquee.ledger.models import EARNING_KINDS, Entry, TransferKind, Unit

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
    """{day: {source: [gross, net, count]}} for local days first..last, from ledger
    transfers; the ``private`` cell has a fourth number, the tokens paid."""
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
    # The private cell also carries the tokens paid: [gross, net, count (= periods), tokens].
    private_days = [day for day, sources in days.items() if "private" in sources]
    if private_days:
        tokens = _private_tokens_by_day(performer, zone, min(private_days), max(private_days))
        for day in private_days:
            days[day]["private"].append(tokens.get(day, 0))
    return days


_ONE_DAY = datetime.timedelta(days=1)
_SUPPORTER_SPAN = datetime.timedelta(days=SUPPORTER_WINDOW_DAYS)


def _private_tokens_by_day(performer, zone, first: datetime.date, last: datetime.date) -> dict:
    """{day: tokens} the viewers' wallets paid for private, exclusive, spy and
    group-show periods on local days first..last (each period is one
    ``private`` transfer; its wallet side the one negative token entry)."""
    since, until = _midnight(first, zone), _midnight(last, zone) + _ONE_DAY
    transfers = ledger.earnings_transfers(performer, since=since, until=until).filter(kind=TransferKind.PRIVATE)
    rows = (
        Entry.objects.filter(transfer__in=transfers.values("pk"), unit=Unit.TOKENS, amount__lt=0)
        .annotate(day=TruncDate("transfer__created_at", tzinfo=zone))
        .values("day")
        .annotate(tokens=Sum("amount"))
        .order_by()
    )
    return {row["day"]: -int(row["tokens"] or 0) for row in rows}


def private_show_time(periods: int, tokens: int) -> dict:
    """What the private source adds to its totals: ``{"periods", "minutes",
    "tokens"}``, minutes = periods × ``PRIVATE_BILLING_SECONDS`` / 60."""
    minutes = periods * settings.PRIVATE_BILLING_SECONDS / 60
    return {
        "periods": periods,
        "minutes": int(minutes) if minutes == int(minutes) else round(minutes, 2),
        "tokens": tokens,
    }


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


TOP_KEPT = 100  # enough that today's payments cannot lift anyone else into the top 10


def _closed_window(last: datetime.date) -> tuple[datetime.date, datetime.date]:
    return last - datetime.timedelta(days=SUPPORTER_WINDOW_DAYS - 2), last


def _supporter_sums(performer, zone, first, last, user_ids=None) -> dict[int, list[int]]:
    rows = SupporterDay.objects.filter(performer=performer, timezone=zone.key, day__range=(first, last))
    if user_ids is not None:
        rows = rows.filter(user_id__in=user_ids)
    rows = rows.values("user_id").annotate(g=Sum("gross_cents"), n=Sum("net_cents"), c=Sum("count")).order_by()
    return {r["user_id"]: [int(r["g"]), int(r["n"]), int(r["c"])] for r in rows}


def _days(first: datetime.date, last: datetime.date):
    day = first
    while day <= last:
        yield day
        day += _ONE_DAY

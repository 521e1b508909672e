"""Earnings dashboard server time with 1,000,000 earning transfers for one performer.

Usage (PostgreSQL; the database is migrated and the bench performer's rows replaced):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/marquee_bench \
        .venv/bin/python bench/earnings/run.py [--rows 1000000]

Seeds one performer with N earning transfers over the last 365 days (tips 70%,
tickets 10%, subscriptions 10%, content 8%, private 2%; 2,000 supporters; 0.5%
refunded), each with its three balanced entries (provider, performer pending,
platform fees), loaded with COPY.  Then measures, in-process through Django's
test client (URL routing, middleware, queries, template rendering: the server
time a request costs), the earnings page by day/week/month, the CSV export and
the API: cold (summary cache empty) once, then warm, 15 runs each."""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marquee.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from marquee.accounts.models import User  # noqa: E402
from marquee.earnings.models import EarningsDay  # noqa: E402
from marquee.ledger.models import Account, AccountKind, Entry, Transfer  # noqa: E402
from marquee.ledger.services import performer_account, platform_account, provider_account  # noqa: E402
from marquee.performers.models import Performer  # noqa: E402

KINDS = [("tip", 70), ("ticket", 10), ("subscription", 10), ("content", 8), ("private", 2)]
SUPPORTERS = 2000


def seed(rows: int, reseed: bool) -> Performer:
    user, _ = User.objects.get_or_create(
        username="bench_performer", defaults={"email": "bench_performer@bench.test", "date_of_birth": "1990-01-01"}
    )
    performer, _ = Performer.objects.get_or_create(
        user=user, defaults={"display_name": "Bench", "verification_status": "verified"}
    )
    Performer.objects.filter(pk=performer.pk).update(timezone="Europe/London")
    performer.refresh_from_db()
    existing = Transfer.objects.filter(performer=performer, kind__in=[k for k, _ in KINDS]).count()
    if existing == rows and not reseed:
        print(f"reusing {existing:,} transfers")
        return performer
    supporters = []
    for i in range(SUPPORTERS):
        supporter, _ = User.objects.get_or_create(
            username=f"bench_fan_{i}", defaults={"email": f"bench_fan_{i}@bench.test", "date_of_birth": "1990-01-01"}
        )
        supporters.append(supporter.pk)
    pending = performer_account(performer, AccountKind.PERFORMER_PENDING)
    fees = platform_account(AccountKind.PLATFORM_FEES)
    provider = provider_account("bench")
    rng = random.Random(42)
    kinds = [k for k, weight in KINDS for _ in range(weight)]
    now = timezone.now()
    # A ledger is appended in time order: generate the instants sorted, oldest first.
    offsets = sorted((rng.uniform(0, 365 * 86400) for _ in range(rows)), reverse=True)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        # Bulk load: skip the per-row immutability/zero-sum triggers (every
        # transfer below is balanced by construction; balances are set after).
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "DELETE FROM ledger_entry WHERE transfer_id IN (SELECT id FROM ledger_transfer WHERE performer_id = %s)",
            [performer.pk],
        )
        cursor.execute("DELETE FROM ledger_transfer WHERE performer_id = %s", [performer.pk])
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM ledger_transfer")
        next_id = cursor.fetchone()[0] + 1
        first_id = next_id
        share_pct = settings.PERFORMER_SHARE_PERCENT
        with cursor.cursor.copy(
            "COPY ledger_transfer (id, kind, idempotency_key, created_at, user_id, performer_id, source_type,"
            " source_id, available_at, gross_cents, performer_cents, memo) FROM STDIN"
        ) as copy:
            for i in range(rows):
                kind = rng.choice(kinds)
                gross = rng.randint(1, 50) * 10 if kind == "tip" else rng.choice([499, 799, 999, 1499, 2999])
                created = now - datetime.timedelta(seconds=offsets[i])
                copy.write_row(
                    (
                        next_id + i,
                        kind,
                        f"bench-{performer.pk}-{i}",
                        created,
                        rng.choice(supporters),
                        performer.pk,
                        "bench",
                        str(i),
                        created + datetime.timedelta(days=settings.EARNINGS_HOLD_DAYS),
                        gross,
                        gross * share_pct // 100,
                        "",
                    )
                )
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM ledger_entry")
        entry_id = cursor.fetchone()[0] + 1
        cursor.execute(
            "INSERT INTO ledger_entry (id, transfer_id, account_id, amount, unit, created_at)"
            " SELECT %s + (t.id - %s) * 3 + s.n, t.id,"
            " CASE s.n WHEN 0 THEN %s WHEN 1 THEN %s ELSE %s END,"
            " CASE s.n WHEN 0 THEN -t.gross_cents WHEN 1 THEN t.performer_cents"
            " ELSE t.gross_cents - t.performer_cents END,"
            " 'cents', t.created_at"
            " FROM ledger_transfer t CROSS JOIN (VALUES (0), (1), (2)) AS s(n)"
            " WHERE t.performer_id = %s AND t.id >= %s AND (s.n <> 2 OR t.gross_cents > t.performer_cents)",
            [entry_id, first_id, provider.pk, pending.pk, fees.pk, performer.pk, first_id],
        )
        # 0.5% refunded (one reversal each, pointing at its original).
        refunds = rng.sample(range(first_id, first_id + rows), rows // 200)
        cursor.execute("SELECT MAX(id) FROM ledger_transfer")
        refund_id = cursor.fetchone()[0] + 1
        cursor.execute(
            "SELECT id, created_at, user_id, gross_cents, performer_cents FROM ledger_transfer WHERE id = ANY(%s)",
            [refunds],
        )
        originals = cursor.fetchall()
        with cursor.cursor.copy(
            "COPY ledger_transfer (id, kind, idempotency_key, created_at, user_id, performer_id, source_type,"
            " source_id, related_id, gross_cents, performer_cents, memo) FROM STDIN"
        ) as copy:
            for offset, (tid, created, uid, gross, net) in enumerate(originals):
                copy.write_row(
                    (
                        refund_id + offset,
                        "refund",
                        f"bench-refund-{tid}",
                        created + datetime.timedelta(hours=2),
                        uid,
                        performer.pk,
                        "bench",
                        str(tid),
                        tid,
                        gross,
                        net,
                        "",
                    )
                )
        # Each refund's entries reverse its original's, so the seeded ledger
        # balances (ledger_check, which bench/tips runs on the same database,
        # finds a transfer with no entries).
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM ledger_entry")
        cursor.execute(
            "INSERT INTO ledger_entry (id, transfer_id, account_id, amount, unit, created_at)"
            " SELECT %s + ROW_NUMBER() OVER (ORDER BY r.id, e.id), r.id, e.account_id, -e.amount, e.unit, r.created_at"
            " FROM ledger_transfer r JOIN ledger_entry e ON e.transfer_id = r.related_id"
            " WHERE r.kind = 'refund' AND r.id >= %s",
            [cursor.fetchone()[0], refund_id],
        )
        for table in ("ledger_transfer", "ledger_entry"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        for account in (pending, fees, provider):
            Account.objects.filter(pk=account.pk).update(
                balance=Entry.objects.filter(account=account).aggregate(s=django.db.models.Sum("amount"))["s"] or 0
            )
    cursor_time = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ledger_transfer")
        cursor.execute("ANALYZE ledger_entry")
    print(
        f"seeded {rows:,} transfers (+{rows // 200:,} refunds, {Entry.objects.filter(account=pending).count():,} "
        f"entries on the performer's pending account) in {cursor_time:.1f}s"
    )
    return performer


def measure(client: Client, url: str, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--reseed", action="store_true", help="replace the bench performer's transfers")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("run this against PostgreSQL (DATABASE_URL=postgres://…)")
    call_command("migrate", verbosity=0)
    performer = seed(args.rows, args.reseed)
    client = Client()
    client.force_login(performer.user)
    EarningsDay.objects.filter(performer=performer).delete()
    started = time.perf_counter()
    client.get("/dashboard/earnings/?by=month")
    print(f"cold (summarize 365 days from the ledger, once): {(time.perf_counter() - started) * 1000:.0f} ms")
    with connection.cursor() as cursor:  # steady state: autovacuum has set the visibility map
        cursor.execute("VACUUM ANALYZE earnings_earningsday")
        cursor.execute("VACUUM ANALYZE earnings_supporterday")
    print(f"{'request':42} {'median ms':>10} {'p95 ms':>8}")
    for url in (
        "/dashboard/earnings/?by=day",
        "/dashboard/earnings/?by=week",
        "/dashboard/earnings/?by=month",
        "/dashboard/earnings.csv?by=month",
        "/api/v1/dashboard/earnings/?by=month",
    ):
        median, p95 = measure(client, url, args.runs)
        print(f"{url:42} {median:10.1f} {p95:8.1f}")


if __name__ == "__main__":
    main()

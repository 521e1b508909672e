"""Tips per second and latency on PostgreSQL with concurrent clients.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/marquee_bench \
        .venv/bin/python bench/tips/run.py --clients 16 --seconds 20

Each client is a separate process (like separate web workers; no shared
GIL) with its own database connection calling the real
``billing.services.send_tip`` (one transaction: ledger transfer with
conditional updates, tip row, audit row, room event on commit).  Wallets are
funded through the real sandbox purchase path first.  Afterwards every ledger
invariant is checked (``ledger_check``).

The limit: ``raw_tip.sql`` makes the same writes in raw SQL (pgbench,
prepared statements, the same number of clients and rooms, the same wallets
and accounts); it runs before and after the application figure, and the
ratio application / limit (mean of the two limit runs) is printed."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marquee.settings")
# Forked client processes each keep a connection of their own; a connection pool
# (its sockets and threads) must not cross a fork.
os.environ.setdefault("DB_POOL_MAX_SIZE", "0")
os.environ.setdefault("REDIS_URL", "")

import django

django.setup()

from django.conf import settings  # noqa: E402

# As in production: no per-query debug logging (the dev default DEBUG=1 adds it).
settings.DEBUG = False

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402

from bench.support import percentile  # noqa: E402

RAW_SCRIPT = Path(__file__).with_name("raw_tip.sql")


def raw_sql_limit(clients: int, seconds: float) -> tuple[float, list[float]]:
    """Tips per second of ``raw_tip.sql`` under pgbench (the physical limit),
    and each transaction's latency in seconds (pgbench's per-transaction log)."""
    import tempfile

    db = settings.DATABASES["default"]
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    with tempfile.TemporaryDirectory() as logs:
        command = [
            "pgbench", "-n", "-M", "prepared", "-f", str(RAW_SCRIPT),
            "-c", str(clients), "-j", str(min(clients, os.cpu_count() or 1)), "-T", str(max(1, int(seconds))),
            "-l", "--log-prefix", str(Path(logs) / "tx"),
            "-h", db.get("HOST") or "127.0.0.1", "-p", str(db.get("PORT") or 5432), "-U", db.get("USER") or "postgres",
            db["NAME"],
        ]  # fmt: skip
        out = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
        # Each line: client_id transaction_no latency_us script_no epoch_s epoch_us
        latencies = [int(line.split()[2]) / 1e6 for log in Path(logs).glob("tx.*") for line in log.open()]
    match = re.search(r"tps = ([0-9.]+)", out)
    if not match:
        sys.exit("pgbench printed no tps:\n" + out)
    return float(match.group(1)), latencies


def fill_raw_clients(users, performers, shows) -> None:
    """One row per pgbench client (pgbench's 0-based ``client_id`` is our index) with
    the same accounts the tip service would use for that client."""
    from marquee.billing.prices import split
    from marquee.ledger.models import AccountKind
    from marquee.ledger.services import performer_account, platform, resolve_accounts, wallet_account

    value = settings.TOKEN_VALUE_CENTS
    share, fee = split(value)
    rows = []
    for index, user in enumerate(users):
        performer = performers[index % len(performers)]
        shards = resolve_accounts(
            [
                platform(kind, shard=user.pk)
                for kind in (AccountKind.TOKEN_SUPPLY, AccountKind.TOKEN_FLOAT, AccountKind.PLATFORM_FEES)
            ]
        )
        supply, float_, fees = (
            shards[platform(kind, shard=user.pk).code]
            for kind in (AccountKind.TOKEN_SUPPLY, AccountKind.TOKEN_FLOAT, AccountKind.PLATFORM_FEES)
        )
        pending = performer_account(performer, AccountKind.PERFORMER_PENDING)
        rows.append(
            (
                index,
                wallet_account(user).pk,
                supply.pk,
                float_.pk,
                pending.pk,
                fees.pk,
                user.pk,
                performer.pk,
                shows[performer.pk],
                value,
                share,
                fee,
            )
        )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_tip_clients")
        cursor.execute(
            "CREATE TABLE bench_tip_clients (client int PRIMARY KEY, wallet_id bigint, supply_id bigint,"
            " float_id bigint, pending_id bigint, fees_id bigint, user_id bigint, performer_id bigint, show_id bigint,"
            " value bigint, share bigint, fee bigint)"
        )
        cursor.executemany(
            "INSERT INTO bench_tip_clients VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows
        )


def client(user_id, performer_id, index, args, start, results) -> None:
    from marquee.accounts.models import User
    from marquee.billing import services
    from marquee.lib.geo import UNKNOWN
    from marquee.performers.models import Performer

    connections.close_all()  # never share the parent's socket
    if args.diagnose == "no-audit":
        services.tips.record_audit = lambda **kwargs: None  # the tip module's own binding
    if args.diagnose == "async-commit":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
    user = User.objects.get(pk=user_id)
    performer = Performer.objects.select_related("user").get(pk=performer_id)
    latencies, failed, n = [], 0, 0
    start.wait()
    deadline = time.perf_counter() + args.seconds
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        try:
            services.send_tip(
                user=user, performer=performer, tokens=args.tokens, idempotency_key=f"b{index}-{n}", location=UNKNOWN
            )
        except Exception as exc:
            if not failed:
                print(f"client {index}: first failure: {exc!r}", file=sys.stderr)
            failed += 1
        latencies.append(time.perf_counter() - t0)
        n += 1
    connections.close_all()
    results.put((latencies, failed))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--tokens", type=int, default=1)
    parser.add_argument(
        "--diagnose",
        choices=["none", "no-audit", "async-commit"],
        default="none",
        help="diagnostics only (never production): skip the audit row, or commit without waiting for the WAL flush",
    )
    parser.add_argument("--performers", type=int, default=1, help="rooms tipped (client i tips room i %% n)")
    parser.add_argument(
        "--no-limit", dest="limit", action="store_false", help="skip the raw-SQL limit runs (pgbench) around the figure"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("set DATABASE_URL to a PostgreSQL database")
    call_command("migrate", verbosity=0)

    from django.utils import timezone

    from marquee.billing import services
    from marquee.billing.models import Product, Purchase
    from marquee.compliance.models import AgeVerification
    from marquee.ledger.selectors import check_invariants
    from marquee.shows.models import Show
    from tests.factories import PerformerFactory, UserFactory

    run = uuid.uuid4().hex[:6]
    performers = [
        PerformerFactory(
            user=UserFactory(username=f"bench-perf-{run}-{i}"), tip_goal_tokens=1000, tip_goal_label="Bench"
        )
        for i in range(args.performers)
    ]
    # Each room is live with a tip goal, as a tipped room is: every tip moves the show's goal counter.
    shows = {
        p.pk: Show.objects.create(performer=p, title="Bench", status=Show.Status.LIVE, started_at=timezone.now()).pk
        for p in performers
    }
    users = []
    for i in range(args.clients):
        user = UserFactory(username=f"bench-{run}-{i}")
        # Buyers need an approved age verification (compliance policy on main).
        AgeVerification.objects.create(
            user=user, provider="bench", status=AgeVerification.Status.APPROVED, decided_at=timezone.now()
        )
        purchase = Purchase.objects.create(
            user=user, provider="sandbox", product=Product.TOKENS, tokens=10**6, amount_cents=10**6, description="bench"
        )
        services.sandbox_complete_checkout(purchase=purchase, pay=True)
        users.append(user)

    fill_raw_clients(users, performers, shows)
    user_ids = [u.pk for u in users]
    connections.close_all()
    limit_before, limit_latencies_before = raw_sql_limit(args.clients, args.seconds) if args.limit else (None, [])
    start = multiprocessing.Barrier(len(user_ids) + 1)
    results = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=client, args=(uid, performers[i % len(performers)].pk, i, args, start, results))
        for i, uid in enumerate(user_ids)
    ]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    per_client = [results.get() for _ in workers]
    elapsed = time.perf_counter() - began
    for worker in workers:
        worker.join()
    limit_after, limit_latencies_after = raw_sql_limit(args.clients, args.seconds) if args.limit else (None, [])
    flat = sorted(x for latencies, _ in per_client for x in latencies)
    failures = [failed for _, failed in per_client]
    report = check_invariants()
    ok = len(flat) - sum(failures)
    print(f"diagnose={args.diagnose} rooms={args.performers} clients={args.clients}")
    print(f"seconds={elapsed:.1f} tips={ok} failed={sum(failures)}")
    print(f"tips_per_second={ok / elapsed:.0f}")
    print(f"latency_ms p50={statistics.median(flat) * 1000:.1f} p99={percentile(flat, 0.99) * 1000:.1f}")
    if args.limit:
        limit = (limit_before + limit_after) / 2
        raw = sorted(limit_latencies_before + limit_latencies_after)
        print(f"raw_sql_limit_tips_per_second before={limit_before:.0f} after={limit_after:.0f}")
        raw_p50, raw_p99 = statistics.median(raw) * 1000, percentile(raw, 0.99) * 1000
        print(f"raw_sql_limit_latency_ms p50={raw_p50:.1f} p99={raw_p99:.1f}")
        print(f"ratio_app_to_limit={ok / elapsed / limit:.3f}")
        print(f"p99_ratio_app_to_limit={percentile(flat, 0.99) / percentile(raw, 0.99):.2f}")
    print(f"invariant_violations={len(report.problems)}")
    for problem in report.problems[:10]:
        print("  ", problem)


if __name__ == "__main__":
    main()

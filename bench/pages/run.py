"""Page server time with 10,000 performers and 1,000,000 ledger rows (issue 14 goal 5).

Usage (PostgreSQL; the database is migrated, the rows below are added once and reused):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/marquee_bench \
        .venv/bin/python bench/pages/run.py [--performers 10000] [--live 200] [--runs 40]

Seeds 10,000 verified performers (``live`` of them with a public show on air)
and, through bench/earnings, one performer with 1,000,000 earning transfers
(3,000,000 entries).  Then measures in-process through Django's test client
(routing, middleware, session, queries, template rendering: the server's time,
no network) the home page and a live room as an age-checked viewer, an offline
room, a profile page, and the dashboard as the performer with the million transfers; median and
p95 over ``--runs`` after one warm-up request each.  The floor in the same run
is ``/healthz`` through the same client (middleware and one trivial query), so
each page's ratio to it says what the page itself costs.  Goal: p95 < 50 ms."""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marquee.settings")
os.environ.setdefault("DEBUG", "1")

import django

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.earnings.run import measure, seed  # noqa: E402  (1M transfers for one performer)
from marquee.accounts.models import User  # noqa: E402
from marquee.compliance.middleware import AGE_GATE_SESSION_KEY  # noqa: E402
from marquee.performers.models import Performer  # noqa: E402
from marquee.shows.models import Show  # noqa: E402

PREFIX = "pages_"
GOAL_MS = 50


def seed_performers(count: int, live: int) -> tuple[str, str]:
    """``count`` verified performers named pages_00000…, the first ``live`` on air."""
    have = Performer.objects.filter(user__username__startswith=PREFIX).count()
    if have < count:
        password = make_password(None)
        with transaction.atomic():
            users = User.objects.bulk_create(
                User(
                    username=f"{PREFIX}{i:05d}",
                    email=f"{PREFIX}{i:05d}@bench.test",
                    date_of_birth=datetime.date(1990, 1, 1),
                    password=password,
                )
                for i in range(have, count)
            )
            Performer.objects.bulk_create(
                Performer(user=u, display_name=f"Room {u.username[-5:]}", verification_status="verified") for u in users
            )
    on_air = Show.objects.filter(performer__user__username__startswith=PREFIX, status=Show.Status.LIVE).count()
    if on_air < live:
        now = timezone.now()
        performers = Performer.objects.filter(user__username__startswith=PREFIX).order_by("user__username")[:live]
        Show.objects.bulk_create(
            Show(performer=p, title="Board games night", status=Show.Status.LIVE, started_at=now)
            for p in performers[on_air:]
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return f"{PREFIX}00000", f"{PREFIX}{count - 1:05d}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--performers", type=int, default=10_000)
    parser.add_argument("--live", type=int, default=200)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("run this against PostgreSQL (DATABASE_URL=postgres://…)")
    call_command("migrate", verbosity=0)
    rich = seed(args.rows, reseed=False)
    live_room, offline_room = seed_performers(args.performers, args.live)
    print(f"performers={Performer.objects.count()} live_shows={Show.objects.filter(status='live').count()}")

    viewer, _ = User.objects.get_or_create(
        username="pages_viewer", defaults={"email": "pages_viewer@bench.test", "date_of_birth": "1990-01-01"}
    )
    watcher = Client()
    watcher.force_login(viewer)
    session = watcher.session
    session[AGE_GATE_SESSION_KEY] = True
    session.save()
    owner = Client()
    owner.force_login(rich.user)

    rows = [
        ("floor: /healthz", watcher, "/healthz"),
        ("home", watcher, "/"),
        ("room, live", watcher, f"/rooms/{live_room}/"),
        ("room, offline", watcher, f"/rooms/{offline_room}/"),
        ("profile", watcher, f"/performers/{live_room}/"),
        ("dashboard (1M transfers)", owner, "/dashboard/"),
    ]
    print(f"{'request':28} {'median ms':>10} {'p95 ms':>8} {'p95 / floor':>12} {'goal':>6}")
    floor_p95 = None
    for label, client, url in rows:
        client.get(url)  # warm-up: caches and connections as a running server has them
        median, p95 = measure(client, url, args.runs)
        floor_p95 = floor_p95 or p95
        met = "" if label.startswith("floor") else ("met" if p95 < GOAL_MS else "NO")
        print(f"{label:28} {median:10.1f} {p95:8.1f} {p95 / floor_p95:12.1f} {met:>6}")


if __name__ == "__main__":
    main()

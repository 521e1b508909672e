"""Per-period billing of concurrent private shows on PostgreSQL: session
ticks per second and the lag of each charged period behind its boundary.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/marquee_bench \
        .venv/bin/python bench/privates/run.py --sessions 1000 --period 10 --seconds 60

Setup through the real services: N verified performers, each live (a show
row in status live) with privates on; N viewers funded through the sandbox
purchase path; each viewer requests a private (``privates.services.request_private``:
a ledger hold for the minimum).  Then, while the "worker" process runs
``marquee.privates.tasks.tick`` like beat (every ``--tick`` seconds, the next
one at once when a tick overruns), with ``--workers`` − 1 more processes running
the ``bill`` pass it would queue (``PRIVATE_TICK_WORKERS``) in step with it,
``--setup-processes`` processes accept every request (``accept``: period 1
charged, the session active).  Once all N are active the window of
``--seconds`` starts; the worker keeps ticking until every period whose
boundary falls in the window is charged (or ``--drain`` seconds pass).
With ``--accept-before-window`` (the steady state) every request is accepted
before any worker starts, then the sessions' starts are spread evenly over
the last period, so the window sees n / period periods due each second and
no backlog from the accepts.

Figures: session ticks per second (sessions billed or checked, each in its
own transaction, per second of tick time); periods charged per second; the
lag of each period n ≥ 2 whose boundary ``started_at + (n−1)·period`` falls
in the window: the ledger transfer's ``created_at`` minus the boundary (a
period still uncharged when the run stops counts with its lag so far).  The
limit is the requirement, not a measurement: p99 lag under one period (a
tick later than that charges a period late enough for the payer to notice);
the ratio printed is p99 lag / period.  Afterwards every ledger invariant is
checked (``ledger_check``'s checks); the sessions are left active (ending
1,000 of them takes minutes and is not what is measured; each run uses new
users and rooms)."""

from __future__ import annotations

import argparse
import datetime
import logging
import multiprocessing
import os
import queue
import statistics
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

parser = argparse.ArgumentParser()
parser.add_argument("--sessions", type=int, default=1000)
parser.add_argument("--period", type=int, default=10, help="PRIVATE_BILLING_SECONDS for this run")
parser.add_argument("--tick", type=float, default=5.0, help="beat interval of the tick task (PRIVATE_TICK_SECONDS)")
parser.add_argument("--seconds", type=float, default=60, help="measurement window once every session is active")
parser.add_argument("--drain", type=float, default=60, help="longest wait for the window's periods after it")
parser.add_argument("--rate", type=int, default=10, help="tokens per period")
parser.add_argument(
    "--workers", type=int, default=1, help="worker processes billing each tick together (PRIVATE_TICK_WORKERS)"
)
parser.add_argument("--setup-processes", type=int, default=4, help="processes creating and accepting the sessions")
parser.add_argument(
    "--accept-before-window",
    action="store_true",
    help="steady state: accept every session before the worker(s) start, then spread their starts over one period",
)
args = parser.parse_args()
# Read at call time by the services; set before setup so both processes see it.
os.environ["PRIVATE_BILLING_SECONDS"] = str(args.period)
# The bench runs the extra billing passes itself (``--workers``): nothing is queued to a broker.
os.environ["PRIVATE_TICK_WORKERS"] = "1"
# Requests wait for the whole set-up before they are accepted: they must not expire meanwhile.
os.environ["PRIVATE_REQUEST_EXPIRY_SECONDS"] = "86400"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

# As in production: no per-query debug logging (the dev default DEBUG=1 adds it).
settings.DEBUG = False
# Setup only (not measured): 2,000 users with the production PBKDF2 would take half an hour.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"  # 1,000 receipts, not on stdout

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402

from bench.support import percentile  # noqa: E402


def worker(interval: float, stop, results, first: bool = True) -> None:
    """A Celery worker process under beat: the real task, run through Celery's
    ``apply``: the first runs ``tick``, the others the ``bill`` passes that
    ``tick`` queues when ``PRIVATE_TICK_WORKERS`` > 1 (here run in step with it)."""
    from marquee.privates import tasks

    task = tasks.tick if first else tasks.bill

    connections.close_all()  # never share the parent's socket
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)  # one INFO line per tick otherwise
    print(f"worker_pid={os.getpid()}", file=sys.stderr, flush=True)  # for py-spy
    next_at = time.monotonic()
    while not stop.is_set():
        pause = next_at - time.monotonic()
        if pause > 0:
            stop.wait(pause)
            if stop.is_set():
                break
        began = time.monotonic()
        sessions = task.apply().get()
        results.put((time.time(), time.monotonic() - began, sessions))  # (ended, seconds, sessions)
        next_at = began + interval
    connections.close_all()


def set_up(run: str, indexes: list[int]) -> list[int]:
    """Rooms live with privates on, viewers funded, one private requested per room: returns the session ids."""
    from django.utils import timezone

    from marquee.billing import services as billing
    from marquee.billing.models import Product, Purchase
    from marquee.privates import services as privates
    from marquee.shows.models import Show
    from tests.factories import PerformerFactory, ShowFactory, UserFactory

    connections.close_all()
    ids = []
    for i in indexes:
        performer = PerformerFactory(user=UserFactory(username=f"bp-{run}-{i}"))
        ShowFactory(performer=performer, status=Show.Status.LIVE, started_at=timezone.now(), media_session=run)
        privates.update_room_settings(
            actor=performer.user, performer=performer, privates_enabled=True, rate_tokens=args.rate, minimum_minutes=1
        )
        viewer = UserFactory(username=f"bv-{run}-{i}")
        purchase = Purchase.objects.create(
            user=viewer, provider="sandbox", product=Product.TOKENS, tokens=10**6, amount_cents=10**6, description="b"
        )
        billing.sandbox_complete_checkout(purchase=purchase, pay=True)
        ids.append(privates.request_private(user=viewer, performer=performer).pk)
    connections.close_all()
    return ids


def accept_all(ids: list[int]) -> None:
    from marquee.privates import services as privates
    from marquee.privates.models import PrivateShow

    connections.close_all()
    for session in PrivateShow.objects.filter(pk__in=ids).select_related("performer__user").order_by("pk"):
        privates.accept(actor=session.performer.user, session=session)
    connections.close_all()


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("set DATABASE_URL to a PostgreSQL database")
    call_command("migrate", verbosity=0)
    from marquee.privates.models import PrivateShow

    if PrivateShow.objects.filter(status__in=PrivateShow.OPEN).exists():
        # The tick handles every open session: an earlier run's would be measured too.
        sys.exit("open private sessions from an earlier run: use a fresh database (dropdb/createdb)")

    from django.utils import timezone

    from marquee.ledger.models import Transfer
    from marquee.ledger.selectors import check_invariants

    load_at_start = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    n = args.sessions
    run = uuid.uuid4().hex[:6]
    connections.close_all()
    # Set-up and accepts in parallel processes (like web workers), in chunks.
    chunks = [list(range(i, n, args.setup_processes)) for i in range(args.setup_processes)]
    t0 = time.perf_counter()
    with multiprocessing.Pool(args.setup_processes) as pool:
        ids = sorted(pk for part in pool.starmap(set_up, [(run, chunk) for chunk in chunks]) for pk in part)
    setup_seconds = time.perf_counter() - t0

    stop, results = multiprocessing.Event(), multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=worker, args=(args.tick, stop, results, i == 0), daemon=True)
        for i in range(args.workers)
    ]
    period = datetime.timedelta(seconds=args.period)

    def accept_every_request() -> float:
        began = time.perf_counter()
        with multiprocessing.Pool(args.setup_processes) as pool:
            pool.map(accept_all, [ids[i :: args.setup_processes] for i in range(args.setup_processes)])
        return time.perf_counter() - began

    if args.accept_before_window:
        # Steady state: no worker runs during the accepts (they take minutes, and the
        # backlog they leave is not what a running site sees).  Then the sessions'
        # starts are spread evenly over the last period, as if they had been accepted
        # one after the other, so period 2's boundaries fall evenly in the window's
        # first period and n / period periods fall due each second; only period 1
        # (charged by the accept) exists, and the ledger rows are untouched.
        accept_seconds = accept_every_request()
        window_start = timezone.now() + datetime.timedelta(seconds=2)  # the workers' start-up
        rebased = []
        for i, session in enumerate(PrivateShow.objects.filter(pk__in=ids).order_by("pk")):
            assert session.periods_charged == 1, session.pk
            session.started_at = window_start - period + period * i / n
            session.next_bill_at = session.started_at + period
            rebased.append(session)
        PrivateShow.objects.bulk_update(rebased, ["started_at", "next_bill_at"], batch_size=500)
        connections.close_all()  # forked workers close what they inherit: nothing of the parent's
        for proc in procs:
            proc.start()
    else:
        for proc in procs:
            proc.start()
        accept_seconds = accept_every_request()
        window_start = timezone.now()
    window_end = window_start + datetime.timedelta(seconds=args.seconds)
    started = dict(PrivateShow.objects.filter(pk__in=ids).values_list("pk", "started_at"))

    def due_in_window() -> dict[tuple[int, int], datetime.datetime]:
        due = {}
        for pk, start in started.items():
            k = 2
            while (boundary := start + (k - 1) * period) <= window_end:
                if boundary >= window_start:
                    due[(pk, k)] = boundary
                k += 1
        return due

    due = due_in_window()
    time.sleep(max(0.0, (window_end - timezone.now()).total_seconds()))
    deadline = time.monotonic() + args.drain
    charged: dict[tuple[int, int], datetime.datetime] = {}
    while True:
        keys = Transfer.objects.filter(
            source_type="privates.privateshow", source_id__in=[str(pk) for pk in ids], kind="private"
        ).values_list("idempotency_key", "created_at")
        charged = {}
        for key, created in keys:
            _, pk, _, k = key.split(":")
            charged[(int(pk), int(k))] = created
        if all(key in charged for key in due) or time.monotonic() > deadline:
            break
        time.sleep(1)
    stopped_at = timezone.now()
    stop.set()
    # A tick with a backlog can run for many minutes: it is stopped, not awaited (its
    # transaction rolls back; the periods it had committed are counted above).
    for proc in procs:
        proc.join(timeout=args.tick + 5)
        if proc.is_alive():
            proc.terminate()
            proc.join()
    ticks = []
    while True:
        try:
            ticks.append(results.get(timeout=1))
        except queue.Empty:
            break

    lags = [((charged.get(key) or stopped_at) - boundary).total_seconds() for key, boundary in due.items()]
    missed = sum(1 for key in due if key not in charged)
    in_window = [t for t in ticks if window_start.timestamp() <= t[0] <= window_end.timestamp() + args.tick]
    ticks = ticks or [(0.0, float("nan"), 0)]  # none finished: printed as nan
    tick_seconds = sum(t[1] for t in ticks)
    session_ticks = sum(t[2] for t in ticks)
    posted_in_window = sum(1 for key, at in charged.items() if window_start <= at <= window_end)
    report = check_invariants()
    load = os.getloadavg()
    mode = "accept-before-window" if args.accept_before_window else "accept-during-ticks"
    print(f"load_average_1_5_15={load[0]:.2f} {load[1]:.2f} {load[2]:.2f} cpus={os.cpu_count()}")
    print(
        f"sessions={n} period_s={args.period} tick_interval_s={args.tick} window_s={args.seconds} "
        f"workers={args.workers}"
    )
    print(f"load_average_at_start_1_5_15={load_at_start}")
    print(f"setup_s={setup_seconds:.0f} accept_s={accept_seconds:.1f} (accepts/s={n / accept_seconds:.0f})")
    print(
        f"ticks={len(ticks)} tick_duration_s mean={statistics.mean(t[1] for t in ticks):.2f} "
        f"max={max(t[1] for t in ticks):.2f} (window: {len(in_window)} ticks)"
    )
    print(f"session_ticks_per_second={session_ticks / tick_seconds:.0f} (finished ticks only)")
    # Billing passes (one ``tick`` or ``bill`` run, all workers together) that ended in the window.
    print(f"passes_per_second_in_window={len(in_window) / args.seconds:.2f} mode={mode}")
    # Keeping up, the worker posts what is due (ratio ~1); behind, its ratio is its capacity.
    print(
        f"periods_charged_per_second_in_window={posted_in_window / args.seconds:.1f} "
        f"due_per_second={n / args.period:.1f} ratio={posted_in_window / args.seconds / (n / args.period):.3f}"
    )
    print(
        f"lag_s periods={len(lags)} p50={statistics.median(lags):.2f} p99={percentile(lags, 0.99):.2f} "
        f"max={max(lags):.2f} missed={missed}"
    )
    print(f"limit_s={args.period} (one period)")
    print(f"ratio_p99_lag_to_period={percentile(lags, 0.99) / args.period:.3f}")
    print(f"invariant_violations={len(report.problems)}")
    for problem in report.problems[:10]:
        print("  ", problem)


if __name__ == "__main__":
    main()

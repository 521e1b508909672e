"""Audit-chain append throughput (PostgreSQL: advisory lock per append).

Usage: DATABASE_URL=postgres://... .venv/bin/python bench/compliance/audit_append.py [seconds]
Writers are separate processes (like web/worker processes). Prints tx/s for:
one writer; 4 and 8 concurrent writers each committing one audit row per
transaction (as a tip does); the same with 2 ms of other work in
the transaction after / before the audit row (the lock is held to commit);
and the same transactions inserting one plain ORM row instead (no chain), as baseline.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marquee.settings")
# Forked client processes each keep a connection of their own; a connection pool
# (its sockets and threads) must not cross a fork.
os.environ.setdefault("DB_POOL_MAX_SIZE", "0")

import django

django.setup()

from django.db import connection, connections, transaction  # noqa: E402

from marquee.audit.services import record_audit  # noqa: E402
from marquee.compliance.models import WebhookReceipt  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0


def _work(ms: float):
    if ms:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(%s)", [ms / 1000])


def _tx(audit: bool, work_before: float, work_after: float):
    with transaction.atomic():
        _work(work_before)
        if audit:
            record_audit(action="bench.tip", target_type="bench", target_id=1, details={"tokens": 10})
        else:
            # The same kind of write (one ORM row, a commit), without the chain.
            WebhookReceipt.objects.create(provider="bench", event_id=f"{os.getpid()}-{time.monotonic_ns()}")
        _work(work_after)


def _worker(audit, work_before, work_after, stop, queue):
    connections.close_all()  # a fresh connection per process
    count = 0
    while time.time() < stop:
        _tx(audit, work_before, work_after)
        count += 1
    connections.close_all()
    queue.put(count)


def run(writers: int, *, audit=True, work_before=0.0, work_after=0.0) -> float:
    """``writers`` processes (not threads: no GIL between them), like web workers."""
    connections.close_all()
    queue = multiprocessing.Queue()
    stop = time.time() + SECONDS
    processes = [
        multiprocessing.Process(target=_worker, args=(audit, work_before, work_after, stop, queue))
        for _ in range(writers)
    ]
    for process in processes:
        process.start()
    total = sum(queue.get() for _ in processes)
    for process in processes:
        process.join()
    return total / SECONDS


def interleaved(rounds=3, per_round=200):
    """One process, cases alternated round by round, so background load hits
    both alike: per-transaction cost of an audited vs a plain one-row commit."""
    totals = {"audit": 0.0, "plain": 0.0}
    for _ in range(rounds):
        for name, audit in (("audit", True), ("plain", False)):
            start = time.perf_counter()
            for _ in range(per_round):
                _tx(audit, 0, 0)
            totals[name] += time.perf_counter() - start
    n = rounds * per_round
    for name, seconds in totals.items():
        print(
            f"interleaved, 1 writer, {name:5s} row per tx: {seconds / n * 1000:6.2f} ms/tx  ({n / seconds:6.0f} tx/s)"
        )


def main():
    print(f"database: {connection.vendor}, {SECONDS:.0f} s per case, 2-core machine")
    interleaved()
    connections.close_all()
    cases = [
        ("1 writer, audit row per tx", {"writers": 1}),
        ("4 writers, audit row per tx", {"writers": 4}),
        ("8 writers, audit row per tx", {"writers": 8}),
        ("4 writers, 2 ms work BEFORE audit (audit last)", {"writers": 4, "work_before": 2}),
        ("4 writers, 2 ms work AFTER audit (lock held)", {"writers": 4, "work_after": 2}),
        ("1 writer, plain row insert, no chain (baseline)", {"writers": 1, "audit": False}),
        ("4 writers, plain row insert, no chain (baseline)", {"writers": 4, "audit": False}),
        ("8 writers, plain row insert, no chain (baseline)", {"writers": 8, "audit": False}),
        ("4 writers, 2 ms work + plain insert (baseline)", {"writers": 4, "audit": False, "work_before": 2}),
    ]
    for label, kwargs in cases:
        print(f"{label:50s} {run(**kwargs):8.0f} tx/s")


if __name__ == "__main__":
    main()

"""Audit-chain append throughput (PostgreSQL: advisory lock per append).

Usage: DATABASE_URL=postgres://... .venv/bin/python bench/compliance/audit_append.py [seconds]
Prints rows/s for: one writer; 4 and 8 concurrent writers each committing one
audit row per transaction (as a tip does); the same with 2 ms of other work in
the transaction after / before the audit row (the lock is held to commit);
and 4 writers doing the same transactions without an audit row, as baseline.
"""

from __future__ import annotations

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marquee.settings")

import django

django.setup()

from django.db import connection, connections, transaction  # noqa: E402

from marquee.compliance.services import record_audit  # noqa: E402

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
            # The same kind of write (one row, a commit), without the chain.
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO compliance_webhookreceipt (provider, event_id, received_at) VALUES ('bench', %s, now())",
                    [f"{threading.get_ident()}-{time.monotonic_ns()}"],
                )
        _work(work_after)


def run(writers: int, *, audit=True, work_before=0.0, work_after=0.0) -> float:
    counts = [0] * writers
    stop = time.monotonic() + SECONDS

    def worker(i):
        try:
            while time.monotonic() < stop:
                _tx(audit, work_before, work_after)
                counts[i] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / SECONDS


def main():
    print(f"database: {connection.vendor}, {SECONDS:.0f} s per case, 2-core machine")
    cases = [
        ("1 writer, audit row per tx", dict(writers=1)),
        ("4 writers, audit row per tx", dict(writers=4)),
        ("8 writers, audit row per tx", dict(writers=8)),
        ("4 writers, 2 ms work BEFORE audit (audit last)", dict(writers=4, work_before=2)),
        ("4 writers, 2 ms work AFTER audit (lock held)", dict(writers=4, work_after=2)),
        ("1 writer, plain row insert, no chain (baseline)", dict(writers=1, audit=False)),
        ("4 writers, plain row insert, no chain (baseline)", dict(writers=4, audit=False)),
        ("4 writers, 2 ms work + plain insert (baseline)", dict(writers=4, audit=False, work_before=2)),
    ]
    for label, kwargs in cases:
        print(f"{label:50s} {run(**kwargs):8.0f} tx/s")


if __name__ == "__main__":
    main()

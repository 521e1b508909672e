"""Serving only: cache-miss and cache-hit latency of the recommendations,
against the database and model that bench/recommendations/run.py left.

    MARQUEE_VAR_DIR=<run.py's folder> DATABASE_URL=… REDIS_URL=… \
        .venv/bin/python bench/recommendations/serve.py [--requests 1000] [--rounds 1]

Same measurement as run.py's serving lines (1,000 random viewers, limit 20,
first with an empty cache, then again from the cache; wall and thread CPU
time per call), without the minutes of quality evaluation and training, so
that two versions of the code can be compared back to back (ABBA) on the same
data.  ``--rounds`` repeats the hit pass over the same viewers."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def time_serving(sample, labels) -> None:
    """Serve ``sample``'s recommendations once per label, the cache emptied
    first (so "miss" then "hit"), printing wall and thread-CPU percentiles.
    Wall time includes waiting for a core on a shared machine; CPU time of
    this thread (plus the database/cache round trips inside wall) does not."""
    from django.core.cache import cache

    from marquee.lib.geo import UNKNOWN
    from marquee.recommendations import selectors

    selectors.recommended_performers(viewer=sample[0], location=UNKNOWN, limit=20)  # load the model
    cache.clear()
    for label in labels:
        latencies, cpu = [], []
        for viewer in sample:
            started, started_cpu = time.perf_counter(), time.thread_time()
            result = selectors.recommended_performers(viewer=viewer, location=UNKNOWN, limit=20)
            latencies.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - started_cpu) * 1000)
            assert len(result) == 20
        print(
            f"serve_{label}_ms wall p50={percentile(latencies, 50):.2f} p99={percentile(latencies, 99):.2f} "
            f"max={max(latencies):.2f} | cpu p50={percentile(cpu, 50):.2f} p99={percentile(cpu, 99):.2f} "
            f"n={len(latencies)} load={os.getloadavg()[0]:.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    if "MARQUEE_VAR_DIR" not in os.environ:
        sys.exit("set MARQUEE_VAR_DIR to the folder of a previous bench/recommendations/run.py")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marquee.settings")
    import django

    django.setup()
    import numpy as np

    from marquee.accounts.models import User
    from marquee.recommendations import selectors
    from marquee.shows.models import Show

    viewers = list(User.objects.filter(username__startswith="bu").order_by("pk"))
    if not viewers or selectors.current_artifacts() is None:
        sys.exit("no bench viewers or no model: run bench/recommendations/run.py first")
    live = Show.objects.filter(status=Show.Status.LIVE).count()
    print(f"viewers={len(viewers)} live_rooms={live} model={selectors.current_artifacts().version}")
    rng = np.random.default_rng(3)
    sample = [viewers[int(u)] for u in rng.choice(len(viewers), size=args.requests, replace=False)]
    time_serving(sample, ["miss"] + ["hit"] * args.rounds)


if __name__ == "__main__":
    main()

"""Recommendations benchmark: training time on 1M interactions, serving
latency from the cache and on a miss, and quality against popularity.

    .venv/bin/python bench/recommendations/run.py [--users 100000 --items 10000 --per-user 10]

Uses the settings of the environment (DATABASE_URL / REDIS_URL switch to
PostgreSQL / Redis); without them a throw-away SQLite file and locmem cache
in a temporary MARQUEE_VAR_DIR.  Prints one figure per line.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.recommendations.serve import percentile, time_serving  # noqa: E402  (the serving figures, one copy)


def fill_database(args, users, items):
    import numpy as np

    from marquee.accounts.models import User
    from marquee.performers.models import Performer, Tag
    from marquee.recommendations.models import Interaction

    Interaction.objects.all().delete()
    Performer.objects.filter(user__username__startswith="bp").delete()
    User.objects.filter(username__startswith="bu").delete()
    User.objects.filter(username__startswith="bp").delete()
    tags = [Tag.objects.get_or_create(kind="tag", slug=f"bench{c}", defaults={"label": f"B{c}"})[0] for c in range(50)]
    performer_users = User.objects.bulk_create(
        [User(username=f"bp{i}", email=f"bp{i}@bench.test", password="!") for i in range(args.items)], batch_size=5000
    )
    performers = Performer.objects.bulk_create(
        [Performer(user=u, display_name=u.username, verification_status="verified") for u in performer_users],
        batch_size=5000,
    )
    Performer.tags.through.objects.bulk_create(
        [Performer.tags.through(performer_id=p.pk, tag_id=tags[i % 50].pk) for i, p in enumerate(performers)],
        batch_size=5000,
    )
    viewers = User.objects.bulk_create(
        [User(username=f"bu{i}", email=f"bu{i}@bench.test", password="!") for i in range(args.users)], batch_size=5000
    )
    kinds = np.array(["watch", "watch", "watch", "follow", "tip", "chat"])
    kind_of = kinds[np.random.default_rng(2).integers(0, len(kinds), len(users))]
    batch = []
    for u, i, k in zip(users.tolist(), items.tolist(), kind_of.tolist(), strict=True):
        amount = 600 if k == "watch" else 20 if k == "tip" else 1
        batch.append(Interaction(user_id=viewers[u].pk, performer_id=performers[i].pk, kind=k, amount=amount))
        if len(batch) == 20000:
            Interaction.objects.bulk_create(batch)
            batch = []
    Interaction.objects.bulk_create(batch)
    return viewers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--per-user", type=int, default=10)
    parser.add_argument("--clusters", type=int, default=50)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()

    os.environ.setdefault("MARQUEE_VAR_DIR", tempfile.mkdtemp(prefix="recs-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marquee.settings")
    import django

    django.setup()
    import numpy as np
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command

    from marquee.accounts.models import User
    from marquee.recommendations import engine, evaluation, synthetic, training
    from marquee.recommendations.models import Interaction

    print(f"database={settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} cache={cache.__class__.__name__}")
    print(f"cpus={os.cpu_count()} threads={settings.RECS_TRAIN_THREADS or 'all'}")
    call_command("migrate", verbosity=0)

    users, items, timestamps, weights = synthetic.planted_interactions(
        n_users=args.users, n_items=args.items, per_user=args.per_user, n_clusters=args.clusters
    )
    print(f"interactions={len(users)} viewers={args.users} performers={args.items}")

    # Quality: leave-last-out, platform model vs popularity (same code as recommender_eval).
    data = evaluation.Interactions(
        [str(u) for u in range(args.users)], [str(i) for i in range(args.items)], users, items, timestamps, weights
    )
    split = evaluation.leave_last_out(data)
    params = training.als_params().sized_for(args.items, split.train.nnz)
    als, popularity = evaluation.evaluate(split, params)
    print(als.line())
    print(popularity.line())
    print(f"ndcg_ratio={als.ndcg / popularity.ndcg:.2f}")

    # Fill the database: performers with tags, viewers, interactions (kept
    # when MARQUEE_VAR_DIR points at a previous run's folder).
    started = time.perf_counter()
    if (
        Interaction.objects.count() == len(users)
        and User.objects.filter(username__startswith="bu").count() == args.users
    ):
        viewers = list(User.objects.filter(username__startswith="bu").order_by("pk"))
    else:
        viewers = fill_database(args, users, items)
    print(f"setup_s={time.perf_counter() - started:.1f} (not part of any figure below)")

    started = time.perf_counter()
    artifacts = engine.train_item_factors(split.train, params)
    print(f"als_fit_s={time.perf_counter() - started:.1f} factors={params.factors} iterations={params.iterations}")
    started = time.perf_counter()
    steps = []
    artifacts = training.train(progress=lambda label: steps.append((label.split(" (")[0], time.perf_counter())))
    total = time.perf_counter() - started
    marks = [started] + [at for _, at in steps] + [started + total]
    labels = ["start", *(label for label, _ in steps)]
    parts = " ".join(f"[{label}: {marks[i + 1] - marks[i]:.1f}s]" for i, label in enumerate(labels))
    print(f"train_recommender_s={total:.1f} (database → published model) {parts} load={os.getloadavg()[0]:.1f}")

    rng = np.random.default_rng(3)
    sample = [viewers[int(u)] for u in rng.choice(args.users, size=args.requests, replace=False)]
    time_serving(sample, ("miss", "hit"))
    # Calibration: the cheapest ORM query on this machine right now (the hit
    # path is two such queries, two cache reads and ~50 model instances).
    baseline = []
    for _ in range(300):
        started_cpu = time.thread_time()
        list(User.objects.filter(pk=sample[0].pk).values_list("pk", flat=True))
        baseline.append((time.thread_time() - started_cpu) * 1000)
    print(f"orm_one_row_query_cpu_ms p50={percentile(baseline, 50):.2f} load={os.getloadavg()[0]:.1f}")
    print(f"model_version={artifacts.version}")


if __name__ == "__main__":
    main()

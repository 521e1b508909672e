"""Synthetic interactions with planted structure (for tests and the benchmark):
viewers belong to taste clusters, each cluster favours its own performers,
and a global popularity skew sits on top — so a model that learns the
clusters must beat one that only knows what is popular."""

from __future__ import annotations

import numpy as np


def planted_interactions(
    *, n_users: int, n_items: int, per_user: int, n_clusters: int, in_cluster: float = 0.8, seed: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Returns (users, items, timestamps, weights), one row per interaction."""
    rng = np.random.default_rng(seed)
    item_cluster = rng.integers(0, n_clusters, size=n_items)
    user_cluster = rng.integers(0, n_clusters, size=n_users)
    # Zipf-like popularity over all items: the baseline has something to find too.
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.8
    popularity = rng.permutation(popularity)
    global_p = popularity / popularity.sum()
    cluster_members = [np.flatnonzero(item_cluster == c) for c in range(n_clusters)]
    cluster_p = [popularity[m] / popularity[m].sum() if len(m) else None for m in cluster_members]

    users = np.repeat(np.arange(n_users), per_user)
    from_cluster = rng.random(n_users * per_user) < in_cluster
    items = rng.choice(n_items, size=n_users * per_user, p=global_p)
    for cluster in range(n_clusters):
        members = cluster_members[cluster]
        if not len(members):
            continue
        rows = np.flatnonzero(from_cluster & (user_cluster[users] == cluster))
        items[rows] = rng.choice(members, size=len(rows), p=cluster_p[cluster])
    timestamps = rng.random(n_users * per_user) * 86400 * 30
    weights = rng.integers(1, 5, size=n_users * per_user).astype(np.float32)
    return users, items, timestamps, weights

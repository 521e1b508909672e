"""The model against the popularity baseline on planted structure, and the
metrics themselves on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np

from marquee.recommendations import engine, evaluation, synthetic


def _split(n_users=800, n_items=200):
    users, items, timestamps, weights = synthetic.planted_interactions(
        n_users=n_users, n_items=n_items, per_user=15, n_clusters=8, seed=3
    )
    data = evaluation.Interactions(
        [str(u) for u in range(n_users)], [str(i) for i in range(n_items)], users, items, timestamps, weights
    )
    return evaluation.leave_last_out(data)


def test_als_beats_popularity_on_planted_structure():
    split = _split()
    params = engine.ALSParams(threads=2).sized_for(200)
    als, popularity = evaluation.evaluate(split, params)
    assert als.name == "als" and popularity.name == "popularity"
    assert popularity.ndcg > 0
    assert als.ndcg >= 1.5 * popularity.ndcg
    assert als.recall > popularity.recall


def test_metrics_match_hand_computation():
    # Three users; test items 5, 6, 7.  User 0 finds it at rank 0, user 1 at rank 2, user 2 misses.
    ranked = np.array([[5, 1, 2], [0, 1, 6], [0, 1, 2]])
    result = evaluation._score("m", ranked, np.array([5, 6, 7]), 0.0, 3)
    assert math.isclose(result.recall, 2 / 3)
    assert math.isclose(result.precision, 2 / 9)
    assert math.isclose(result.ndcg, (1 / math.log2(2) + 1 / math.log2(4)) / 3)


def test_leave_last_out_holds_out_last_item_and_all_its_repeats():
    data = evaluation.read_interactions(
        [
            "user,item,timestamp,weight",
            "u1,a,1,1",
            "u1,b,2,1",
            "u1,a,3,2",  # u1's last item is a: both rows of a leave training
            "u2,a,5,1",  # u2 has one item: trains only
            "u3,c,1,1",
            "u3,c,2,1",  # u3 has one distinct item: trains only
        ]
    )
    split = evaluation.leave_last_out(data)
    u1 = data.users.index("u1")
    assert split.test_users.tolist() == [u1]
    assert split.test_items.tolist() == [data.items.index("a")]
    train = split.train.toarray()
    assert train[u1, data.items.index("a")] == 0
    assert train[u1, data.items.index("b")] == 1
    assert train[data.users.index("u3"), data.items.index("c")] == 2


def test_popularity_never_recommends_what_the_viewer_has_seen():
    split = _split(200, 50)
    ranked, _ = evaluation.popularity_ranking(split, 10)
    for row, user in enumerate(split.test_users):
        seen = set(split.train[user].indices)
        assert not seen & set(ranked[row])

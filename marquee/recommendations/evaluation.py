"""Offline evaluation: leave-last-out per viewer on any ``user,item,timestamp[,weight]``
CSV (MovieLens-style files included), for the platform's ALS model and a
popularity baseline.  Reads only the file — never the database."""

from __future__ import annotations

import csv
import datetime
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from marquee.recommendations import engine

# Header names we accept for each column (lower-cased, without "_" or " ").
COLUMN_ALIASES = {
    "user": {"user", "userid", "users", "viewer", "viewerid", "uid"},
    "item": {"item", "itemid", "items", "movieid", "movie", "performer", "performerid", "product", "productid", "iid"},
    "timestamp": {"timestamp", "time", "ts", "datetime", "date", "createdat"},
    "weight": {"weight", "rating", "score", "value", "count", "confidence"},
}


class EvaluationError(ValueError):
    pass


@dataclass
class Interactions:
    users: list[str]
    items: list[str]
    user_index: np.ndarray
    item_index: np.ndarray
    timestamps: np.ndarray
    weights: np.ndarray
    skipped: dict[str, int] = field(default_factory=dict)


def _parse_timestamp(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        try:
            parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.UTC)
        return parsed.timestamp()
    return value if math.isfinite(value) else None


def _column_positions(header: list[str]) -> dict[str, int] | None:
    names = [name.strip().lower().replace("_", "").replace(" ", "").lstrip("\ufeff") for name in header]
    positions = {}
    for column, aliases in COLUMN_ALIASES.items():
        for position, name in enumerate(names):
            if name in aliases and column not in positions:
                positions[column] = position
    if {"user", "item", "timestamp"} <= positions.keys():
        return positions
    return None


def read_interactions(lines: Iterable[str]) -> Interactions:
    """Parses the CSV.  Rows with no user/item, an unreadable timestamp or a
    non-positive weight are skipped (and counted); a missing weight is 1."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise EvaluationError("The file is empty.")
    positions = _column_positions(header)
    if positions is None:
        raise EvaluationError(
            "The header must name the columns user,item,timestamp[,weight] "
            f"(got: {','.join(h.strip() for h in header)[:200]})."
        )
    user_ids: dict[str, int] = {}
    item_ids: dict[str, int] = {}
    user_index, item_index, timestamps, weights = [], [], [], []
    skipped = {"short_row": 0, "missing_id": 0, "bad_timestamp": 0, "bad_weight": 0}
    needed = max(positions["user"], positions["item"], positions["timestamp"])
    weight_at = positions.get("weight")
    for row in reader:
        if not row or len(row) <= needed:
            if row:
                skipped["short_row"] += 1
            continue
        user, item = row[positions["user"]].strip(), row[positions["item"]].strip()
        if not user or not item:
            skipped["missing_id"] += 1
            continue
        timestamp = _parse_timestamp(row[positions["timestamp"]])
        if timestamp is None:
            skipped["bad_timestamp"] += 1
            continue
        weight = 1.0
        if weight_at is not None and weight_at < len(row) and row[weight_at].strip():
            try:
                weight = float(row[weight_at])
            except ValueError:
                weight = float("nan")
            if not math.isfinite(weight) or weight <= 0:
                skipped["bad_weight"] += 1
                continue
        user_index.append(user_ids.setdefault(user, len(user_ids)))
        item_index.append(item_ids.setdefault(item, len(item_ids)))
        timestamps.append(timestamp)
        weights.append(weight)
    return Interactions(
        users=list(user_ids),
        items=list(item_ids),
        user_index=np.asarray(user_index, dtype=np.int64),
        item_index=np.asarray(item_index, dtype=np.int64),
        timestamps=np.asarray(timestamps, dtype=np.float64),
        weights=np.asarray(weights, dtype=np.float32),
        skipped={k: v for k, v in skipped.items() if v},
    )


@dataclass
class Split:
    train: sparse.csr_matrix  # users × items, summed weights
    test_users: np.ndarray
    test_items: np.ndarray


def leave_last_out(data: Interactions) -> Split:
    """Each viewer's last interaction (by timestamp, then file order) is the
    test item; every interaction with that item leaves the training set.
    Viewers with fewer than two distinct items only train."""
    n_users, n_items = len(data.users), len(data.items)
    if n_users == 0:
        raise EvaluationError("No usable rows in the file.")
    order = np.lexsort((np.arange(len(data.user_index)), data.timestamps, data.user_index))
    users = data.user_index[order]
    items = data.item_index[order]
    weights = data.weights[order]
    last = np.flatnonzero(np.r_[users[1:] != users[:-1], True])
    test_item_of = np.full(n_users, -1, dtype=np.int64)
    test_item_of[users[last]] = items[last]
    distinct_pairs = np.unique(users * n_items + items)
    distinct_per_user = np.bincount(distinct_pairs // n_items, minlength=n_users)
    evaluated = distinct_per_user >= 2
    test_item_of[~evaluated] = -1
    keep = items != test_item_of[users]
    train = engine.confidence_matrix(users[keep], items[keep], weights[keep], (n_users, n_items))
    test_users = np.flatnonzero(evaluated)
    return Split(train=train, test_users=test_users, test_items=test_item_of[test_users])


@dataclass
class Result:
    name: str
    precision: float
    recall: float
    ndcg: float
    train_seconds: float

    def line(self, k: int = 10) -> str:
        return (
            f"{self.name} precision@{k}={self.precision:.4f} recall@{k}={self.recall:.4f} "
            f"ndcg@{k}={self.ndcg:.4f} train_s={self.train_seconds:.2f}"
        )


def _score(name: str, ranked: np.ndarray, test_items: np.ndarray, train_seconds: float, k: int) -> Result:
    hits = ranked[:, :k] == test_items[:, None]
    hit_rows, hit_ranks = np.nonzero(hits)
    gains = np.zeros(len(test_items))
    gains[hit_rows] = 1.0 / np.log2(hit_ranks + 2)
    recall = float(hits.any(axis=1).mean()) if len(test_items) else 0.0
    return Result(name, recall / k, recall, float(gains.mean()) if len(test_items) else 0.0, train_seconds)


def popularity_ranking(split: Split, k: int) -> tuple[np.ndarray, float]:
    started = time.perf_counter()
    scores = engine.popularity(split.train)
    seconds = time.perf_counter() - started
    order = np.argsort(-scores, kind="stable")
    ranked = np.full((len(split.test_users), k), -1, dtype=np.int64)
    for row, user in enumerate(split.test_users):
        seen = split.train.indices[split.train.indptr[user] : split.train.indptr[user + 1]]
        # Enough popular items that k survive removing what the viewer has seen.
        candidates = order[: k + len(seen)]
        candidates = candidates[~np.isin(candidates, seen)][:k]
        ranked[row, : len(candidates)] = candidates
    return ranked, seconds


def als_ranking(split: Split, k: int, params: engine.ALSParams, batch: int = 2048) -> tuple[np.ndarray, float]:
    started = time.perf_counter()
    model = engine.fit_als(split.train, params)
    seconds = time.perf_counter() - started
    ranked = np.full((len(split.test_users), k), -1, dtype=np.int64)
    n = min(k, split.train.shape[1])
    with engine.blas_single_thread():
        for start in range(0, len(split.test_users), batch):
            users = split.test_users[start : start + batch]
            ids, _ = model.recommend(users, split.train[users], N=n, filter_already_liked_items=True)
            ranked[start : start + len(users), : ids.shape[1]] = ids
    return ranked, seconds


def evaluate(split: Split, params: engine.ALSParams, k: int = 10, model_name: str = "als") -> list[Result]:
    results = []
    ranked, seconds = als_ranking(split, k, params)
    results.append(_score(model_name, ranked, split.test_items, seconds, k))
    ranked, seconds = popularity_ranking(split, k)
    results.append(_score("popularity", ranked, split.test_items, seconds, k))
    return results

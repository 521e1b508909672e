"""Training: interactions from the database → ALS item factors, content
vectors and popularity → a new versioned artifact, swapped in atomically."""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db.models import Sum

from marquee.performers.models import Performer
from marquee.recommendations import engine
from marquee.recommendations.models import Interaction
from marquee.shows.models import Show

POINTER = "CURRENT"


def als_params() -> engine.ALSParams:
    return engine.ALSParams(
        factors=settings.RECS_FACTORS, iterations=settings.RECS_ITERATIONS, threads=settings.RECS_TRAIN_THREADS
    )


def performer_features(performer_ids) -> dict[int, list[str]]:
    """Content of each performer: tags, categories, languages and the show
    kinds they run (default and past shows)."""
    features: dict[int, list[str]] = defaultdict(list)
    through = Performer.tags.through.objects.filter(performer_id__in=performer_ids)
    for performer_id, kind, slug in through.values_list("performer_id", "tag__kind", "tag__slug"):
        features[performer_id].append(f"{kind}:{slug}")
    performers = Performer.objects.filter(pk__in=performer_ids).values_list("pk", "default_show_kind")
    for performer_id, kind in performers:
        features[performer_id].append(f"show:{kind}")
    shows = Show.objects.filter(performer_id__in=performer_ids).values_list("performer_id", "kind").distinct()
    for performer_id, kind in shows:
        features[performer_id].append(f"show:{kind}")
    return features


def build_artifacts(*, progress=None) -> engine.Artifacts:
    step = progress or (lambda label: None)
    step("loading interactions")
    item_ids = np.array(
        sorted(Performer.objects.filter(is_suspended=False).values_list("pk", flat=True)), dtype=np.int64
    )
    aggregated = (
        Interaction.objects.filter(performer__is_suspended=False)
        .values("user_id", "performer_id", "kind")
        .annotate(total=Sum("amount"))
        .values_list("user_id", "performer_id", "kind", "total")
        .order_by()
    )
    rows = list(aggregated.iterator(chunk_size=50000))
    user_ids, performer_ids, kinds, totals = (list(column) for column in zip(*rows, strict=True)) if rows else ([],) * 4
    confidences = engine.kind_confidences(np.asarray(kinds, dtype=str), np.asarray(totals, dtype=np.float64))
    _, user_rows = np.unique(np.asarray(user_ids, dtype=np.int64), return_inverse=True)
    performer_ids = np.asarray(performer_ids, dtype=np.int64)
    item_rows = np.searchsorted(item_ids, performer_ids).clip(max=max(len(item_ids) - 1, 0))
    known = (item_ids[item_rows] == performer_ids) if len(item_ids) else np.zeros(len(rows), dtype=bool)
    matrix = engine.confidence_matrix(
        user_rows[known], item_rows[known], confidences[known], (int(user_rows.max(initial=-1)) + 1, len(item_ids))
    )
    params = als_params().sized_for(len(item_ids), matrix.nnz)
    step(f"fitting ALS on {matrix.nnz} pairs ({matrix.shape[0]} viewers × {matrix.shape[1]} performers)")
    if matrix.nnz:
        item_factors = engine.train_item_factors(matrix, params, show_progress=progress is not None)
    else:
        item_factors = np.zeros((len(item_ids), params.factors), dtype=np.float32)
    step("content features")
    features = performer_features(item_ids.tolist())
    content, vocabulary = engine.content_matrix([features.get(int(pk), []) for pk in item_ids])
    return engine.Artifacts(
        version=time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3),
        item_ids=item_ids,
        item_factors=item_factors,
        popularity=engine.popularity(matrix) if matrix.shape[0] else np.zeros(len(item_ids), np.float32),
        content=content,
        vocabulary=vocabulary,
        params=params,
        trained_at=time.time(),
    )


def models_dir() -> Path:
    return Path(settings.RECS_DIR) / "models"


def publish(artifacts: engine.Artifacts) -> Path:
    """Writes the artifact, then points CURRENT at it (temp file + os.replace,
    so readers see the old or the new version, never half of one)."""
    path = artifacts.save(models_dir())
    directory = Path(settings.RECS_DIR)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".current-")
    with os.fdopen(handle, "w") as stream:
        stream.write(artifacts.version)
    os.replace(temporary, directory / POINTER)
    _prune(keep=settings.RECS_KEEP_VERSIONS, current=artifacts.version)
    return path


def _prune(*, keep: int, current: str) -> None:
    versions = sorted(models_dir().glob("*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in versions[keep:]:
        if path.stem != current:
            path.unlink(missing_ok=True)


def current_version() -> str | None:
    try:
        return (Path(settings.RECS_DIR) / POINTER).read_text().strip() or None
    except FileNotFoundError:
        return None


def train(*, progress=None) -> engine.Artifacts:
    artifacts = build_artifacts(progress=progress)
    publish(artifacts)
    return artifacts

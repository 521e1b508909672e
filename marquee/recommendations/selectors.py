"""Serving.  Ranked candidate lists (performer id, score, source) are cached
per viewer and model version; who may see what is decided after the cache,
on every request, so a new block or region rule applies at once."""

from __future__ import annotations

import threading

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db.models import Aggregate, Count, Exists, JSONField, OuterRef, Subquery, Sum
from django.db.models.functions import JSONArray
from django.utils import timezone

from marquee.lib.geo import Location
from marquee.performers.models import Performer, Tag
from marquee.performers.selectors import visible_performers
from marquee.recommendations import engine, training
from marquee.recommendations.models import Interaction, ViewerBlock
from marquee.shows.models import Show

PERSONAL, NEW, POPULAR, LIVE = "personal", "new", "popular", "live"
_loaded: dict[str, engine.Artifacts] = {}
_load_lock = threading.Lock()
NO_MODEL = "none"
LIVE_CACHE_SECONDS = 5
LIVE_KEY = "recs:live"
HEAD_SLACK = 5
# What cards and the API show: loading only these keeps a cached request cheap.
CARD_FIELDS = ("display_name", "bio", "avatar", "room_topic", "user__username")


def current_artifacts() -> engine.Artifacts | None:
    version = training.current_version()
    if version is None:
        return None
    artifacts = _loaded.get(str(settings.RECS_DIR))
    if artifacts is not None and artifacts.version == version:
        return artifacts
    with _load_lock:
        try:
            artifacts = engine.Artifacts.load(training.models_dir() / f"{version}.npz", version)
        except FileNotFoundError:
            return None
        _loaded[str(settings.RECS_DIR)] = artifacts
    return artifacts


def _cache_key(artifacts, *parts) -> str:
    version = artifacts.version if artifacts else NO_MODEL
    return ":".join(["recs", version, *map(str, parts)])


def _viewer_history(user_id: int) -> dict[int, float]:
    rows = (
        Interaction.objects.filter(user_id=user_id)
        .values("performer_id", "kind")
        .annotate(total=Sum("amount"))
        .values_list("performer_id", "kind", "total")
        .order_by()
    )
    history: dict[int, float] = {}
    for performer_id, kind, total in rows:
        history[performer_id] = history.get(performer_id, 0.0) + engine.kind_confidence(kind, total)
    return history


def _new_performers(artifacts: engine.Artifacts) -> tuple[list[int], np.ndarray | None]:
    """Performers who joined after training: content vectors only (cold start)."""
    new_ids = list(
        Performer.objects.filter(is_suspended=False)
        .exclude(pk__lte=int(artifacts.item_ids.max()) if len(artifacts.item_ids) else 0)
        .order_by("-pk")
        .values_list("pk", flat=True)[:500]
    )
    new_ids = [pk for pk in new_ids if pk not in artifacts.row_of]
    if not new_ids:
        return [], None
    features = training.performer_features(new_ids)
    content, _ = engine.content_matrix([features.get(pk, []) for pk in new_ids], artifacts.vocabulary)
    return new_ids, content


def _rank(ids, scores, source, k) -> list[list]:
    best = engine.top_k(scores, k)
    return [[int(ids[i]), round(float(scores[i]), 5), source] for i in best]


def _popular_ranked(artifacts: engine.Artifacts | None, prefetched: dict | None = None) -> list[list]:
    key = _cache_key(artifacts, "popular")
    ranked = prefetched.get(key) if prefetched is not None else cache.get(key)
    if ranked is not None:
        return ranked
    k = settings.RECS_TOP_K
    if artifacts is not None and artifacts.popularity.any():
        ranked = _rank(artifacts.item_ids, engine.scale_unit(artifacts.popularity), POPULAR, k)
    else:
        # No model yet: followers and interactions straight from the database.
        rows = (
            Performer.objects.filter(is_suspended=False)
            .annotate(follower_total=Count("followers", distinct=True))
            .order_by("-follower_total", "pk")
            .values_list("pk", "follower_total")[:k]
        )
        peak = max((f for _, f in rows), default=0) or 1
        ranked = [[pk, round(f / peak, 5), POPULAR] for pk, f in rows]
    cache.set(key, ranked, settings.RECS_CACHE_SECONDS)
    return ranked


def _personal_ranked(artifacts: engine.Artifacts | None, user_id: int, prefetched: dict | None = None) -> list[list]:
    key = _cache_key(artifacts, "viewer", user_id)
    ranked = prefetched.get(key) if prefetched is not None else cache.get(key)
    if ranked is not None:
        return ranked
    history = _viewer_history(user_id)
    personal = history and artifacts is not None
    ranked = _score_history(artifacts, history) if personal else _popular_ranked(artifacts)
    cache.set(key, ranked, settings.RECS_CACHE_SECONDS)
    return ranked


def _score_history(artifacts: engine.Artifacts, history: dict[int, float]) -> list[list]:
    """ALS (viewer folded in from their history) + content profile + a pinch of
    popularity for known performers; content alone for new ones."""
    new_ids, new_content = _new_performers(artifacts)
    rows = np.array([artifacts.row_of[pk] for pk in history if pk in artifacts.row_of], dtype=np.int64)
    confidences = np.array([c for pk, c in history.items() if pk in artifacts.row_of], dtype=np.float32)
    factors = artifacts.fold_in(rows, confidences)
    als = engine.scale_unit(artifacts.item_factors @ factors) if factors is not None else 0.0
    profile = np.zeros(artifacts.content.shape[1], dtype=np.float32)
    if len(rows):
        profile += np.asarray(artifacts.content[rows].T @ confidences).ravel()
    if new_content is not None:
        new_weights = np.array([history.get(pk, 0.0) for pk in new_ids], dtype=np.float32)
        profile += np.asarray(new_content.T @ new_weights).ravel()
    norm = np.linalg.norm(profile)
    profile = profile / norm if norm else profile
    scores = als + 0.3 * (artifacts.content @ profile) + 0.05 * engine.scale_unit(artifacts.popularity)
    ranked = _rank(artifacts.item_ids, scores, PERSONAL, settings.RECS_TOP_K)
    if new_content is not None:
        ranked += _rank(np.array(new_ids), 0.6 * (new_content @ profile), NEW, 20)
        ranked.sort(key=lambda entry: -entry[1])
    return ranked


def _similar_ranked(
    artifacts: engine.Artifacts | None, performer_id: int, prefetched: dict | None = None
) -> list[list]:
    key = _cache_key(artifacts, "similar", performer_id)
    ranked = prefetched.get(key) if prefetched is not None else cache.get(key)
    if ranked is not None:
        return ranked
    if artifacts is None:
        ranked = _popular_ranked(None)
    else:
        new_ids, new_content = _new_performers(artifacts)
        row = artifacts.row_of.get(performer_id)
        if row is not None:
            vector = np.asarray(artifacts.content[row].todense()).ravel()
            als = artifacts.unit_factors @ artifacts.unit_factors[row]
        else:
            features = training.performer_features([performer_id]).get(performer_id, [])
            vector = np.asarray(engine.content_matrix([features], artifacts.vocabulary)[0].todense()).ravel()
            als = 0.0
        scores = 0.6 * als + 0.4 * (artifacts.content @ vector) + 0.02 * engine.scale_unit(artifacts.popularity)
        ranked = _rank(artifacts.item_ids, scores, PERSONAL, settings.RECS_TOP_K)
        if new_content is not None:
            ranked += _rank(np.array(new_ids), 0.4 * (new_content @ vector), NEW, 20)
            ranked.sort(key=lambda entry: -entry[1])
        ranked = [entry for entry in ranked if entry[0] != performer_id]
    cache.set(key, ranked, settings.RECS_CACHE_SECONDS)
    return ranked


def _live_performer_ids(prefetched: dict | None = None) -> set[int]:
    """Rooms live now; cached a few seconds (the boost may lag a going-live by that much)."""
    live = prefetched.get(LIVE_KEY) if prefetched is not None else cache.get(LIVE_KEY)
    if live is None:
        live = set(Show.objects.filter(status=Show.Status.LIVE).order_by().values_list("performer_id", flat=True)[:500])
        cache.set(LIVE_KEY, live, LIVE_CACHE_SECONDS)
    return live


class _JsonRows(Aggregate):
    """The grouped rows as one JSON array (JSONB_AGG on PostgreSQL,
    JSON_GROUP_ARRAY on SQLite)."""

    function = "JSON_GROUP_ARRAY"
    output_field = JSONField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="JSONB_AGG", **extra_context)


def _visible_cards(ids, viewer, location: Location) -> list[Performer]:
    """One query: the candidates this viewer may see (geo, the performer's
    region blocks, suspension, verification, own room, own hides), loaded with
    what a card shows, tags included (``card_tags``: [id, slug, label, kind]
    rows, or None), so a cached request is one database round trip."""
    next_show = Show.objects.filter(
        performer=OuterRef("pk"), status=Show.Status.SCHEDULED, scheduled_start__gte=timezone.now()
    ).order_by("scheduled_start")
    tags = (
        Performer.tags.through.objects.filter(performer_id=OuterRef("pk"))
        .order_by()
        .values("performer_id")
        .annotate(rows=_JsonRows(JSONArray("tag_id", "tag__slug", "tag__label", "tag__kind")))
        .values("rows")
    )
    candidates = (
        visible_performers(location)
        .filter(pk__in=ids, verification_status=Performer.Verification.VERIFIED)
        .select_related("user")
        .only(*CARD_FIELDS)
        .annotate(next_show_at=Subquery(next_show.values("scheduled_start")[:1]), card_tags=Subquery(tags))
        .order_by()
    )
    if viewer is not None and viewer.is_authenticated:
        hidden = ViewerBlock.objects.filter(user=viewer, performer=OuterRef("pk"))
        candidates = candidates.exclude(user_id=viewer.pk).exclude(Exists(hidden))
    return list(candidates)


def _attach_tags(performers: list[Performer]) -> None:
    """What ``prefetch_related("tags")`` gives (``performer.tags.all()``, in
    the tags' own order), from the rows the card query brought."""
    empty = Tag.objects.none()
    for performer in performers:
        rows = sorted(performer.card_tags or (), key=lambda row: (row[3], row[2]))
        # A shallow copy of one empty queryset per card (a new QuerySet each
        # costs 5x more), holding that card's tags as if prefetched.
        queryset = object.__new__(type(empty))
        queryset.__dict__.update(empty.__dict__)
        queryset._result_cache = [Tag(id=pk, slug=slug, label=label, kind=kind) for pk, slug, label, kind in rows]
        queryset._prefetch_done = True
        performer._prefetched_objects_cache = {"tags": queryset}


def _serve(
    ranked: list[list], *, viewer, location: Location, limit: int, live_boost: float, exclude=(), prefetched=None
) -> list:
    """Visibility and the live-now boost, applied on every request after the
    cache.  Each returned performer carries ``recommendation_score``,
    ``recommendation_source``, ``is_live`` and ``next_show_at``."""
    live = _live_performer_ids(prefetched)
    scores = {pk: (score, source) for pk, score, source in ranked}
    if live_boost:
        for pk in live:
            scores.setdefault(pk, (0.0, LIVE))

    def rank(pk):
        return (-(scores[pk][0] + (live_boost if pk in live else 0.0)), pk)

    ordered = [pk for pk in sorted(scores, key=rank) if pk not in exclude]
    # Most lists survive filtering nearly whole: load a short head first
    # (the whole list only when too many of the head are hidden from this
    # viewer).  The head is what can be shown, not the live set on top of it
    # (that loaded 200+ cards for 20 when 200 rooms were live).
    head = ordered[: limit + HEAD_SLACK]
    performers = _visible_cards(head, viewer, location)
    if len(performers) < limit and len(ordered) > len(head):
        performers = _visible_cards(ordered, viewer, location)
    performers.sort(key=lambda performer: rank(performer.pk))
    chosen = performers[:limit]
    _attach_tags(chosen)
    for performer in chosen:
        performer.is_live = performer.pk in live
        performer.recommendation_score, performer.recommendation_source = scores[performer.pk]
    return chosen


def recommended_performers(*, viewer, location: Location, limit: int = 20, live_boost: bool = True, exclude=()) -> list:
    """The "Recommended for you" list; anonymous visitors get popular + live
    now.  ``exclude``: performer ids not to list (already on the page)."""
    artifacts = current_artifacts()
    personal = viewer is not None and viewer.is_authenticated
    key = _cache_key(artifacts, "viewer", viewer.pk) if personal else _cache_key(artifacts, "popular")
    # The cached list and the live set in one cache round trip (a cache hit's
    # remaining cost is round trips: this and the card and tag queries).
    prefetched = cache.get_many([key, LIVE_KEY])
    if personal:
        ranked = _personal_ranked(artifacts, viewer.pk, prefetched)
        boost = settings.RECS_LIVE_BOOST
    else:
        ranked = _popular_ranked(artifacts, prefetched)
        boost = 1.0  # popularity is scaled to [0, 1]: every live room goes first
    return _serve(
        ranked,
        viewer=viewer,
        location=location,
        limit=limit,
        live_boost=boost if live_boost else 0.0,
        exclude=set(exclude),
        prefetched=prefetched,
    )


def similar_performers(*, performer: Performer, viewer, location: Location, limit: int = 6) -> list:
    artifacts = current_artifacts()
    # The room's list and the live set in one cache round trip, as for the home row.
    prefetched = cache.get_many([_cache_key(artifacts, "similar", performer.pk), LIVE_KEY])
    ranked = _similar_ranked(artifacts, performer.pk, prefetched)
    return _serve(
        ranked,
        viewer=viewer,
        location=location,
        limit=limit,
        live_boost=0.0,
        exclude={performer.pk},
        prefetched=prefetched,
    )


def hidden_performers(user):
    return Performer.objects.filter(hidden_by__user=user).select_related("user").prefetch_related("tags").order_by("pk")


def model_version() -> str:
    return training.current_version() or NO_MODEL

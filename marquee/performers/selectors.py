from __future__ import annotations

import hmac
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from marquee.compliance import policy
from marquee.lib import realtime
from marquee.lib.fields import max_length
from marquee.lib.geo import Location
from marquee.performers import regions
from marquee.performers.models import Follow, Performer, RegionBlock, RoomModerator, Tag
from marquee.shows.models import Show


def visible_performers(location: Location) -> QuerySet[Performer]:
    """Performers anyone at ``location`` may see: not suspended, applied,
    and not region-blocked by the performer."""
    return Performer.objects.filter(is_suspended=False).filter(policy.region_block_q(location))


def browse_filters(params) -> dict:
    """The home grid's filters from a query string (page or API), cut to what
    can match: tags and languages are tag slugs; the free-text search is short."""
    slug_length = max_length(Tag, "slug")
    return {
        "tag": params.get("tag", "")[:slug_length],
        "language": params.get("language", "")[:slug_length],
        "query": params.get("q", "")[: settings.SEARCH_QUERY_MAX_CHARS].strip(),
    }


def browse_performers(*, location: Location, tag: str = "", language: str = "", query: str = "") -> BrowseResults:
    """The home grid: live first, then by next scheduled show (rooms with none
    last), then by name; sliced and counted like a queryset (pages, API)."""
    performers = visible_performers(location)
    # Tag filters as EXISTS, so a performer is never repeated (no DISTINCT).
    tagged = Performer.tags.through.objects.filter(performer_id=OuterRef("pk"))
    if tag:
        performers = performers.filter(Exists(tagged.filter(tag__kind="tag", tag__slug=tag)))
    if language:
        performers = performers.filter(Exists(tagged.filter(tag__kind="language", tag__slug=language)))
    if query:
        performers = performers.filter(Q(display_name__icontains=query) | Q(user__username__icontains=query))
    return BrowseResults(performers.order_by(), now=timezone.now())


class BrowseResults:
    """The grid's order without sorting every performer on computed keys.

    Only rooms that are live or have a show coming (a few hundred, found from
    the shows side) need those keys; every other room has none of them
    (not live, no next show), so they all come after, by name.  A slice is
    the ordered head of the first kind and then, only when the page reaches
    past it, the others by name: exactly the order of sorting everything by
    (live, next show with nulls last, name, id), at a cost that does not grow
    with the rooms that are neither (bench/pages: 20,000 performers).  The
    rows of a page are then loaded with ``is_live``, ``next_show_at``,
    ``follower_count`` and users, and their tags (a first page: 3 queries)."""

    def __init__(self, performers: QuerySet[Performer], *, now) -> None:
        self._performers = performers
        upcoming = Show.objects.filter(status=Show.Status.SCHEDULED, scheduled_start__gte=now)
        live = Q(status=Show.Status.LIVE)
        self._live_ids = Show.objects.filter(live).order_by().values("performer_id")
        # One IN (not two ORed): PostgreSQL drives it from the shows side.
        self._keyed_ids = (
            Show.objects.filter(live | Q(status=Show.Status.SCHEDULED, scheduled_start__gte=now))
            .order_by()
            .values("performer_id")
        )
        self._next_show = (
            upcoming.filter(performer=OuterRef("pk")).order_by("scheduled_start").values("scheduled_start")[:1]
        )
        self._head: list[int] | None = None
        self._count: int | None = None

    def _keyed(self, performers: QuerySet[Performer]) -> QuerySet[Performer]:
        return performers.annotate(
            is_live=ExpressionWrapper(Q(pk__in=self._live_ids), output_field=BooleanField()),
            next_show_at=Subquery(self._next_show),
        )

    def _head_ids(self) -> list[int]:
        """Rooms live or with a show coming, in grid order."""
        if self._head is None:
            head = self._performers.filter(pk__in=self._keyed_ids)
            self._head = list(
                self._keyed(head)
                .order_by("-is_live", F("next_show_at").asc(nulls_last=True), "display_name", "pk")
                .values_list("pk", flat=True)
            )
        return self._head

    def count(self) -> int:
        if self._count is None:
            self._count = self._performers.count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __iter__(self):
        return iter(self[:])

    def __getitem__(self, index):
        if isinstance(index, int):
            rows = self[index : index + 1] if index >= 0 else []
            if not rows:
                raise IndexError(index)
            return rows[0]
        if index.step not in (None, 1) or (index.start or 0) < 0 or (index.stop is not None and index.stop < 0):
            raise ValueError("only forward slices without negative bounds")
        start = index.start or 0
        stop = self.count() if index.stop is None else index.stop
        if stop <= start:
            return []
        head = self._head_ids()
        ids = head[start:stop]
        if len(ids) < stop - start:
            rest = self._performers.exclude(pk__in=self._keyed_ids)
            ids += rest.order_by("display_name", "pk").values_list("pk", flat=True)[
                max(0, start - len(head)) : stop - len(head)
            ]
        return self._load(ids)

    def _load(self, ids: list[int]) -> list[Performer]:
        if not ids:
            return []
        followers = (
            Follow.objects.filter(performer=OuterRef("pk"))
            .order_by()
            .values("performer")
            .annotate(n=Count("pk"))
            .values("n")
        )
        rows = (
            self._keyed(self._performers.filter(pk__in=ids))
            .annotate(follower_count=Coalesce(Subquery(followers), 0))
            .select_related("user")  # a join for the page's rows only
            .prefetch_related("tags")
            .in_bulk()
        )
        return [rows[pk] for pk in ids if pk in rows]


def attach_viewer_counts(performers) -> list:
    """Cards of live rooms show how many watch: the chat's own count (what
    the room page shows), for the whole list at once and cached briefly.
    Sets ``viewers`` (None for rooms that are not live)."""
    performers = list(performers)
    live = [p for p in performers if getattr(p, "is_live", False)]
    counts = realtime.viewer_counts(p.user.username for p in live)
    for performer in performers:
        performer.viewers = counts.get(performer.user.username) if getattr(performer, "is_live", False) else None
    return performers


def get_visible_performer(username: str, *, viewer, location: Location) -> Performer | None:
    """The performer behind a room URL, or None when missing or hidden from
    this viewer (same answer, so hidden rooms cannot be probed)."""
    performer = Performer.objects.select_related("user").filter(user__username=username).first()
    if performer is None:
        return None
    if not policy.can_view_performer(viewer, performer, location):
        return None
    return performer


def followed_performers(user, location: Location) -> QuerySet[Performer]:
    ids = Follow.objects.filter(user=user).values("performer_id")
    return visible_performers(location).filter(pk__in=ids).select_related("user")


def is_following(user, performer) -> bool:
    return user.is_authenticated and Follow.objects.filter(user=user, performer=performer).exists()


def is_room_moderator(user, performer) -> bool:
    if not user or not user.is_authenticated:
        return False
    if user.pk == performer.user_id or user.is_staff:
        return True
    return performer.moderators.filter(user=user).exists()


def room_moderators(performer) -> QuerySet[RoomModerator]:
    """The room's moderators by name (the dashboard page and API list the same)."""
    return performer.moderators.select_related("user").order_by("user__username")


def region_blocks(performer) -> list[tuple[RegionBlock, str]]:
    """The room's region blocks in display order, each with its readable label."""
    return [
        (block, regions.region_label(block.country, block.subdivision))
        for block in performer.region_blocks.order_by("country", "subdivision")
    ]


def stream_key_matches(performer: Performer, secret: str) -> bool:
    from marquee.performers.services import hash_stream_key

    if not performer.stream_key_hash or not secret:
        return False
    return hmac.compare_digest(performer.stream_key_hash, hash_stream_key(secret))


def performer_zone(performer: Performer) -> ZoneInfo:
    """The performer's own time zone (UTC when unset or unknown)."""
    try:
        return ZoneInfo(performer.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")

from __future__ import annotations

import hmac
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
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


def browse_performers(*, location: Location, tag: str = "", language: str = "", query: str = "") -> QuerySet[Performer]:
    """The home grid: live first, then by next scheduled show, then by name.

    The grid sorts every visible performer (10,000s) before taking a page, so
    the sort keys must cost next to nothing per row.  ``is_live`` is
    ``pk IN (performers with a live show)`` and the next show is looked up
    only for performers in the set of those with a show coming: both sets are
    uncorrelated subqueries that PostgreSQL evaluates once into a hash (a few
    hundred rows), instead of two index probes per performer.  The follower
    count is computed only for the page returned (bench/pages)."""
    now = timezone.now()
    upcoming = Show.objects.filter(status=Show.Status.SCHEDULED, scheduled_start__gte=now)
    next_show = upcoming.filter(performer=OuterRef("pk")).order_by("scheduled_start").values("scheduled_start")[:1]
    live_ids = Show.objects.filter(status=Show.Status.LIVE).order_by().values("performer_id")
    upcoming_ids = upcoming.order_by().values("performer_id")
    followers = (
        Follow.objects.filter(performer=OuterRef("pk"))
        .order_by()
        .values("performer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    performers = (
        visible_performers(location)
        # Users by prefetch, not a join: a join is made for every visible
        # performer before the sort, a prefetch only for the page.
        .prefetch_related("user", "tags")
        .annotate(
            is_live=ExpressionWrapper(Q(pk__in=live_ids), output_field=BooleanField()),
            next_show_at=Case(When(pk__in=upcoming_ids, then=Subquery(next_show)), default=None),
            follower_count=Coalesce(Subquery(followers), 0),
        )
    )
    # Tag filters as EXISTS, so a performer is never repeated (no DISTINCT).
    tagged = Performer.tags.through.objects.filter(performer_id=OuterRef("pk"))
    if tag:
        performers = performers.filter(Exists(tagged.filter(tag__kind="tag", tag__slug=tag)))
    if language:
        performers = performers.filter(Exists(tagged.filter(tag__kind="language", tag__slug=language)))
    if query:
        performers = performers.filter(Q(display_name__icontains=query) | Q(user__username__icontains=query))
    # Nulls last on every database (SQLite sorts them first): a room with a
    # show coming comes before one with none.
    return performers.order_by("-is_live", F("next_show_at").asc(nulls_last=True), "display_name")


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

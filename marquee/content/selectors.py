"""Reads of content and the one access decision for a set's files."""

from __future__ import annotations

from django.urls import reverse

from marquee.compliance import policy
from marquee.content.models import ContentPurchase, MediaItem, MediaSet
from marquee.lib.decisions import ALLOW, Decision, deny
from marquee.lib.geo import Location
from marquee.lib.signed_files import make_token, read_token

_SIGNING_SALT = "marquee.content.file"
VARIANTS = ("file", "thumbnail", "preview")


def has_purchased(user, media_set: MediaSet) -> bool:
    return (
        bool(user and user.is_authenticated) and ContentPurchase.objects.filter(user=user, media_set=media_set).exists()
    )


def access_media_set(viewer, media_set: MediaSet, location: Location) -> Decision:
    """Owner always; otherwise the set must be published, the performer visible
    from here, and the viewer a subscriber (when the set is free for them) or a buyer."""
    from marquee.billing import selectors as billing

    performer = media_set.performer
    authenticated = viewer is not None and viewer.is_authenticated
    if authenticated and viewer.pk == performer.user_id:
        return ALLOW
    if not media_set.is_published:
        return deny("not_found", "No such set.", 404)
    visible = policy.can_view_performer(viewer, performer, location)
    if not visible:
        return deny("not_found", "No such set.", 404)
    adult = policy.can_view_adult_content(viewer, location)
    if not adult:
        return adult
    if authenticated:
        if media_set.free_for_subscribers and billing.has_active_subscription(viewer, performer):
            return ALLOW
        if has_purchased(viewer, media_set):
            return ALLOW
    return deny("paywall", _paywall_message(media_set), 402)


def _paywall_message(media_set: MediaSet) -> str:
    ways = []
    if media_set.free_for_subscribers:
        ways.append("subscribe to the fan club")
    if media_set.price_tokens:
        ways.append(f"buy it for {media_set.price_tokens} tokens")
    return "To see this set, " + " or ".join(ways) + "."


def own_sets(performer):
    return performer.media_sets.all()


def visible_sets(performer):
    return performer.media_sets.filter(is_published=True)


def signed_file_url(item: MediaItem, variant: str, user) -> str:
    """A URL for one file of ``item`` that works for ``user`` only, for
    ``CONTENT_URL_MAX_AGE`` seconds."""
    return reverse("content_file", args=[make_token(_SIGNING_SALT, user, i=item.pk, v=variant)])


def read_file_token(token: str, user) -> dict | None:
    data = read_token(_SIGNING_SALT, token, user)
    if data is None or data.get("v") not in VARIANTS:
        return None
    return data


def item_urls(item: MediaItem, user) -> dict:
    return {
        "file": signed_file_url(item, "file", user),
        "thumbnail": signed_file_url(item, "thumbnail", user) if item.thumbnail else None,
        "preview": signed_file_url(item, "preview", user) if item.preview else None,
    }

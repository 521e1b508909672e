from __future__ import annotations

from marquee.compliance import policy
from marquee.compliance.geo import Location
from marquee.lib.decisions import ALLOW, Decision, deny
from marquee.performers.models import ShowKind
from marquee.shows.models import Show


def current_show(performer) -> Show | None:
    return performer.shows.filter(status=Show.Status.LIVE).first()


def upcoming_shows(performer, limit: int = 5):
    return performer.shows.filter(status=Show.Status.SCHEDULED).order_by("scheduled_start")[:limit]


def format_price(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _paywall(show: Show) -> dict:
    paywall = _paywall_offer(show)
    paywall["price_display"] = format_price(paywall["price_cents"])
    return paywall


def _paywall_offer(show: Show) -> dict:
    performer = show.performer
    if show.kind == ShowKind.PREMIUM:
        return {
            "product": "ticket",
            "show_id": show.pk,
            "price_cents": show.price_cents,
            "message": "This stream is premium. Purchase access to watch.",
        }
    if show.kind == ShowKind.SUBSCRIBERS:
        return {
            "product": "subscription",
            "performer": performer.username,
            "price_cents": performer.subscription_price_cents,
            "message": "This show is for fan-club members. Subscribe to watch.",
        }
    return {
        "product": "private",
        "show_id": show.pk,
        "price_cents": performer.private_show_price_cents,
        "message": "This is a private show.",
    }


def access_show(viewer, show: Show, location: Location) -> Decision:
    """The one decision on whether ``viewer`` may watch ``show``: used by the
    room page, the API and the playback-URL signer alike."""
    from marquee.billing import selectors as billing

    performer = show.performer
    visible = policy.can_view_performer(viewer, performer, location)
    if not visible:
        return visible
    adult = policy.can_view_adult_content(viewer, location)
    if not adult:
        return adult
    authenticated = viewer is not None and viewer.is_authenticated
    if authenticated and (viewer.pk == performer.user_id):
        return ALLOW
    if show.kind == ShowKind.PUBLIC:
        return ALLOW
    if authenticated:
        if show.kind == ShowKind.PREMIUM and billing.has_show_ticket(viewer, show):
            return ALLOW
        if show.kind == ShowKind.SUBSCRIBERS and billing.has_active_subscription(viewer, performer):
            return ALLOW
        if show.kind == ShowKind.PRIVATE and billing.has_show_ticket(viewer, show):
            return ALLOW
    return deny("paywall", _paywall(show)["message"], 402, paywall=_paywall(show))


def room_state(viewer, performer, location: Location) -> dict:
    """What the room API and the player need: live or not, the show, and
    either a signed playback URL or what to buy (``paywall``)."""
    from marquee.shows.playback import signed_playback_url

    show = current_show(performer)
    state = {
        "username": performer.username,
        "is_live": show is not None,
        "show": None,
        "playback_url": None,
        "playback_expires_at": None,
        "paywall": None,
        "denied": None,
    }
    if show is None:
        return state
    state["show"] = {"id": show.pk, "kind": show.kind, "title": show.title, "price_cents": show.price_cents}
    decision = access_show(viewer, show, location)
    if decision:
        state["playback_url"], state["playback_expires_at"] = signed_playback_url(viewer, performer.username)
    elif "paywall" in decision.extra:
        state["paywall"] = decision.extra["paywall"]
    else:
        state["denied"] = {"code": decision.code, "message": decision.message}
    return state

"""The one entitlement module: may this viewer see, hear or buy this.

Every surface (room page, room API, playback URLs, thumbnails, chat join,
checkout, content purchases, tips) asks here; nothing else decides.  The
facts it composes (region blocks, jurisdictions, age verification, "may this
performer earn") live in ``compliance.policy``; who owns what lives in
``billing.selectors``.  Domain services never import this module.
It is long on purpose (~470 lines): splitting entitlement across modules is
how a second copy of a rule starts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from django.db.models import Count, Q
from django.urls import reverse

from marquee.billing import selectors as billing
from marquee.billing.models import Product
from marquee.compliance import policy
from marquee.content import selectors as content_selectors
from marquee.content.models import ContentPurchase, MediaItem
from marquee.lib.decisions import ALLOW, Decision, deny
from marquee.lib.errors import DomainError
from marquee.lib.geo import UNKNOWN, Location, location_for_request
from marquee.performers import selectors as performer_selectors
from marquee.performers.models import Performer, ShowKind
from marquee.privates import selectors as privates
from marquee.shows.models import Show
from marquee.shows.selectors import current_show

HIDDEN = deny("not_found", "This room does not exist.", 404)
AGE_GATE = deny("age_gate", "Confirm that you are 18 or older first.", 401)


@dataclass(frozen=True)
class Viewer:
    """Who asks, from where, and whether their session passed the 18+ gate
    (``declared_adult``: the anonymous visitor's click on the gate)."""

    user: object | None
    location: Location
    declared_adult: bool = False

    @classmethod
    def from_request(cls, request) -> Viewer:
        from marquee.compliance.middleware import declared_adult

        return cls(getattr(request, "user", None), location_for_request(request), declared_adult(request))

    @property
    def authenticated(self) -> bool:
        return self.user is not None and self.user.is_authenticated

    def owns(self, performer) -> bool:
        return self.authenticated and self.user.pk == performer.user_id

    @property
    def passed_age_gate(self) -> bool:
        return policy.passed_age_gate(self.user, self.declared_adult)


class AccessDenied(DomainError):
    """A refused ``Decision`` raised from a surface: answered as its 4xx."""


def require(decision: Decision) -> None:
    if not decision:
        raise AccessDenied(decision.code, decision.message, decision.status, **decision.extra)


# --- seeing -------------------------------------------------------------------------


def view_performer(viewer: Viewer, performer) -> Decision:
    """May ``viewer`` know this room exists (page, profile, cards)?  Hidden
    rooms answer like missing ones, so they cannot be probed."""
    return policy.can_view_performer(viewer.user, performer, viewer.location)


def find_room(viewer: Viewer, username: str) -> Performer | None:
    """The performer behind a room URL, or None when missing or hidden."""
    return performer_selectors.get_visible_performer(username, viewer=viewer.user, location=viewer.location)


def enter_room(viewer: Viewer, performer) -> Decision:
    """Adult content of this room at all: visible, jurisdiction (451 / age
    verification), and the 18+ gate (API callers included)."""
    visible = view_performer(viewer, performer)
    if not visible:
        return visible
    adult = policy.can_view_adult_content(viewer.user, viewer.location)
    if not adult:
        return adult
    if not viewer.passed_age_gate:
        return AGE_GATE
    return ALLOW


def free_to_watch(show: Show) -> bool:
    """Shows anyone who may enter the room may watch (and whose frames may
    be shown on public cards)."""
    return show.kind == ShowKind.PUBLIC


def _entitled(viewer: Viewer, show: Show) -> bool:
    if not viewer.authenticated:
        return False
    if show.kind in (ShowKind.PREMIUM, ShowKind.PRIVATE):
        return billing.has_show_ticket(viewer.user, show)
    if show.kind == ShowKind.SUBSCRIBERS:
        return billing.has_active_subscription(viewer.user, show.performer)
    return False


def watch(viewer: Viewer, show: Show) -> Decision:
    """May ``viewer`` watch (play, see frames of) ``show``?  A 402 carries
    the ``paywall`` offer that would let them in."""
    performer = show.performer
    entered = enter_room(viewer, performer)
    if not entered:
        return entered
    if viewer.owns(performer):
        return ALLOW
    if not policy.can_earn(performer):
        # Verification revoked while live: nobody but the performer sees it.
        return deny("not_available", "This show is not available.", 403)
    if free_to_watch(show) or _entitled(viewer, show):
        return ALLOW
    offer = paywall_offer(show)
    return deny("paywall", offer["message"], 402, paywall=offer)


# --- buying -------------------------------------------------------------------------


def format_price(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def paywall_offer(show: Show) -> dict:
    """What unlocks a non-public show."""
    performer = show.performer
    if show.kind == ShowKind.PREMIUM:
        offer = {
            "product": "ticket",
            "show_id": show.pk,
            "price_cents": show.price_cents,
            "message": "This stream is premium. Purchase access to watch.",
        }
    elif show.kind == ShowKind.SUBSCRIBERS:
        offer = {
            "product": "subscription",
            "performer": performer.username,
            "price_cents": performer.subscription_price_cents,
            "message": "This show is for fan-club members. Subscribe to watch.",
        }
    else:
        offer = {
            "product": "private",
            "show_id": show.pk,
            "price_cents": performer.private_show_price_cents,
            "message": "This is a private show.",
        }
    offer["price_display"] = format_price(offer["price_cents"])
    # What the placeholder shows instead of a black box: the show, since
    # when, and what the purchase gives (no frame of the paid stream).
    offer["title"] = show.title
    began = show.started_at or show.scheduled_start
    offer["started_at"] = began.isoformat() if began else None
    offer["gives"] = PAYWALL_GIVES[offer["product"]]
    return offer


PAYWALL_GIVES = {
    "ticket": "A ticket lets you watch this whole show, live, until it ends, and chat with the room.",
    "subscription": "Fan-club members watch every members-only show and get the member content sets.",
    "private": "A private show is just you and the performer.",
}


# What can be paid for: billing's checkout products, content sets, tips.
PRODUCTS = frozenset({*Product.values, "content", "tip"})


def buy(viewer: Viewer, product: str, *, performer=None, show=None, media_set=None) -> Decision:
    """May ``viewer`` pay for ``product`` (tokens, ticket, private,
    subscription, content, tip) from here?  The buyer's side (logged in,
    adult, region, age verification), a room they may see, and a seller who
    may earn.  What the product itself costs and whether it is on sale is
    the owning service's job."""
    if product not in PRODUCTS:
        return deny("unknown_product", "Unknown product.", 400)
    allowed = policy.can_purchase(viewer.user, viewer.location)
    if not allowed:
        return allowed
    seller = performer or (show.performer if show is not None else None)
    if seller is None and media_set is not None:
        seller = media_set.performer
    if seller is None:
        return ALLOW  # token packs: the platform sells
    if not view_performer(viewer, seller):
        return HIDDEN
    return policy.can_earn(seller)


def buy_private(viewer: Viewer, performer) -> Decision:
    """May ``viewer`` request a private, spy or join a group show here: enter
    the room (age gate, jurisdiction), buy from this performer, and not be
    banned from its chat (a ban also ends a running private)."""
    entered = enter_room(viewer, performer)
    if not entered:
        return entered
    allowed = buy(viewer, "private", performer=performer)
    if not allowed:
        return allowed
    from marquee.chat.selectors import active_restriction

    if active_restriction(viewer.user, performer) is not None:
        return deny("banned", "You cannot book shows in this room.", 403)
    return ALLOW


def private_offer(viewer: Viewer, performer) -> dict | None:
    """What the room's private-show settings offer this viewer (the request
    button and its prices), or None when the room takes no privates or
    groups, or the viewer owns the room."""
    room = privates.room_settings(performer)
    if viewer.owns(performer) or not (room.privates_enabled or room.group_shows_enabled):
        return None
    group = privates.open_group_show(performer)
    return {
        "privates_enabled": room.privates_enabled,
        "rate_tokens": room.rate_tokens,
        "minimum_minutes": room.minimum_minutes,
        "exclusive_rate_tokens": room.exclusive_rate_tokens if room.exclusive_enabled else None,
        "spy_rate_tokens": room.spy_rate_tokens if room.spies_enabled else None,
        "group_show": {"id": group.pk, "rate_tokens": group.rate_tokens, "goal_viewers": group.goal_viewers}
        if group is not None and group.status == "announced"
        else None,
    }


def _in_private(viewer: Viewer, performer, room) -> tuple[object | None, bool]:
    """``viewer``'s active session in the room's private (payer, spy) or group
    show (pledge), and whether they are in it at all (the performer is)."""
    mine = privates.watching_session(viewer.user, performer)
    if mine is not None and room.is_group != (mine.kind == "group"):
        mine = None  # a session of another kind can't be this show's
    return mine, viewer.owns(performer) or mine is not None


def private_state(viewer: Viewer, performer, room=None) -> dict | None:
    """The room is private while a private, exclusive or group show runs: who
    is in it (the performer, the payer, spies, the group's pledgers) and
    whether others may spy (never on an exclusive or a group show)."""
    room = room or privates.private_room(performer)
    if room is None:
        return None
    mine, inside = _in_private(viewer, performer, room)
    settings_ = privates.room_settings(performer)
    spies = not room.is_group and room.kind != "exclusive" and settings_.spies_enabled
    own_room = viewer.owns(performer)
    is_payer = mine is not None and mine.kind != "spy"
    # WebRTC (WHEP, cam2cam) for a private's payer and the performer; spies and
    # group shows stay on HLS.
    webrtc = not room.is_group and (own_room or is_payer)
    cam2cam = webrtc and settings_.cam2cam_enabled
    return {
        "id": room.id,
        "kind": room.kind,
        "spies_allowed": spies,
        "session_id": mine.pk if mine is not None else None,
        "watching": inside,
        "is_payer": is_payer,
        "webrtc_url": reverse("api_private_whep", args=[room.id]) if webrtc else None,
        "cam2cam_url": (
            reverse("api_private_cam2cam_whep" if own_room else "api_private_cam2cam", args=[room.id])
            if cam2cam
            else None
        ),
    }


def private_webrtc(viewer: Viewer, session) -> Decision:
    """May ``viewer`` watch private ``session`` over WebRTC (WHEP): its payer,
    or the performer (preview), while it runs.  The same answer that signs the
    session's HLS URL in ``room_state`` (``watch`` then ``private_state``),
    narrowed to those two: spies stay on HLS."""
    performer = session.performer
    show = current_show(performer)
    if show is None:
        return deny("not_live", "The room is not live.", 409)
    decision = watch(viewer, show)
    if not decision:
        return decision
    private = private_state(viewer, performer)
    if private is None or private["id"] != session.pk:
        return deny("not_running", "This private show is not running.", 409)
    if not (viewer.owns(performer) or private["is_payer"]):
        return deny("not_in_show", "Only the payer and the performer watch this show over WebRTC.", 403)
    return ALLOW


def cam2cam(viewer: Viewer, session, *, send: bool) -> Decision:
    """cam2cam in a running private: the payer may send their camera
    (``send``), only the performer may see it, and only when the room allows it."""
    allowed = private_webrtc(viewer, session)
    if not allowed:
        return allowed
    if send and viewer.owns(session.performer):
        return deny("not_payer", "Only the viewer who pays for the show sends a camera.", 403)
    if not send and not viewer.owns(session.performer):
        return deny("not_performer", "Only the performer sees the viewer's camera.", 403)
    if not privates.room_settings(session.performer).cam2cam_enabled:
        return deny("cam2cam_off", "The performer does not take cam2cam.", 403)
    return ALLOW


def watch_recording(user, recording, *, now=None) -> Decision:
    """A private show's recording: only the payer of that session, and staff;
    only while it is ready and kept.  Anyone else is told it does not exist."""
    from django.utils import timezone

    now = now or timezone.now()
    authenticated = user is not None and user.is_authenticated
    if recording is None or not authenticated or not (user.is_staff or user.pk == recording.session.payer_id):
        return deny("not_found", "No such recording.", 404)
    if recording.status != recording.Status.READY or recording.expires_at <= now:
        return deny("not_ready", "This recording is not available.", 404)
    return ALLOW


def room_offers(viewer: Viewer, performer) -> dict:
    """The one answer to "what can this viewer buy here" (room page tip
    panel, room API and the player's paywall): tickets for the next premium
    shows, the fan club, tipping, each with what the viewer already owns."""
    own_room = viewer.owns(performer)
    sells = not own_room and bool(policy.can_earn(performer))
    shows = performer.shows.filter(kind=ShowKind.PREMIUM, status__in=["scheduled", "live"]).order_by("scheduled_start")[
        :3
    ]
    authenticated = viewer.authenticated
    return {
        "sells": sells,
        "can_tip": sells and authenticated,
        "tickets": [{"show": s, "owned": authenticated and billing.has_show_ticket(viewer.user, s)} for s in shows],
        "club_member": authenticated and billing.has_active_subscription(viewer.user, performer),
    }


def content_shelf(viewer: Viewer, performer, *, limit: int | None = None) -> list[dict]:
    """The sets a viewer is shown on the room, the profile and the room's
    set list: published ones only (a taken-down set is unpublished), and
    none at all when this viewer may not enter the room (region block,
    travel mode, suspension, jurisdiction, 18+ gate).  Each with what the
    viewer already has; opening a set still asks ``content.selectors``."""
    if not viewer.owns(performer) and not enter_room(viewer, performer):
        return []
    sets = content_selectors.visible_sets(performer).annotate(
        ready_items=Count("items", filter=Q(items__status=MediaItem.Status.READY))
    )
    sets = list(sets[:limit] if limit else sets)
    if not sets or not viewer.authenticated:
        return [{"set": media_set, "owned": False} for media_set in sets]
    member = billing.has_active_subscription(viewer.user, performer)
    bought = set(
        ContentPurchase.objects.filter(user=viewer.user, media_set__in=sets).values_list("media_set_id", flat=True)
    )
    return [
        {"set": s, "owned": s.pk in bought or (member and s.free_for_subscribers) or viewer.owns(performer)}
        for s in sets
    ]


# --- the room as the player sees it ------------------------------------------------


def room_state(viewer: Viewer, performer) -> dict:
    """What the room API and the player need: live or not, the show, and
    either a signed playback URL or why not (``paywall`` to buy, ``denied``)."""
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
        "private": None,
    }
    if show is None:
        return state
    state["show"] = {"id": show.pk, "kind": show.kind, "title": show.title, "price_cents": show.price_cents}
    decision = watch(viewer, show)
    room = privates.private_room(performer) if decision else None
    private = private_state(viewer, performer, room) if room is not None else None
    state["private"] = private
    if private is not None and not private["watching"]:
        # Public playback stops for the private's length (its folder is gone too).
        state["denied"] = {"code": "private_show", "message": "In a private show."}
    elif private is not None:
        state["playback_url"], state["playback_expires_at"] = signed_playback_url(
            viewer.user, show, session=room.media_session
        )
    elif decision:
        state["playback_url"], state["playback_expires_at"] = signed_playback_url(viewer.user, show)
    elif "paywall" in decision.extra:
        state["paywall"] = decision.extra["paywall"]
    else:
        state["denied"] = {"code": decision.code, "message": decision.message}
    return state


def live_thumbnail_allowed(viewer: Viewer, performer) -> Decision:
    """A live frame is a piece of the show: same answer as watching it (and
    during a private, only for those in it)."""
    show = current_show(performer)
    if show is None:
        return deny("not_live", "No preview.", 404)
    decision = watch(viewer, show)
    if decision:
        private = private_state(viewer, performer)
        if private is not None and not private["watching"]:
            return deny("private_show", "In a private show.", 403)
    return decision


def public_frames(show: Show) -> bool:
    """May frames of ``show`` go on public cards: free to watch and not in a private or group show."""
    return free_to_watch(show) and privates.private_room(show.performer) is None


# --- chat ---------------------------------------------------------------------------


def _private_chat(user, performer, room) -> tuple[bool, bool]:
    """Who talks and who reads during a private or group show: (talks, reads).
    A private: its payer and the performer talk, its spies read.  A group
    show: its pledgers and the performer.  Nobody else reads what is said in
    it (the chat hub and the history keep it to the room's ``audience``)."""
    mine, inside = _in_private(Viewer(user, UNKNOWN), performer, room)
    talks = inside and (mine is None or mine.kind != "spy")  # mine None and inside: the performer
    return talks, inside


_ASK = object()


def chat_room_state(performer):
    """The private or group show the room is in (None: public), as
    ``chat_post_audience(room=...)`` takes it: the chat socket keeps it per
    room and process until the room's next private_started / private_ended /
    recheck_rights event, so a post costs no query for it."""
    return privates.private_room(performer)


def chat_post_audience(user, performer, room=_ASK) -> str | None:
    """Where a message ``user`` posts now goes: "" to the public chat, the
    running private's audience if they talk in it, None (refused) if the room
    is private and they don't.  Asked at each post, so a post racing the
    private's start is never said in public.  ``room``: ``chat_room_state``
    as the caller last heard it (the socket's process hears a private start
    before its sockets do, so no client that saw it can post past it); who
    talks in a private is still asked each time."""
    if room is _ASK:
        room = privates.private_room(performer)
    if room is None:
        return ""
    talks, _ = _private_chat(user, performer, room)
    return room.audience if talks else None


def chat(*, viewer, username: str, location: Location, age_gate_passed: bool):
    """May ``viewer`` join this room's chat (and post)?  The room rules of
    chat (bans, anonymous reading, roles) come from chat; during a paid or
    private show the chat belongs to those who may watch it (and the room's
    moderators)."""
    from marquee.chat.selectors import ChatAccess, access_chat

    access = access_chat(viewer=viewer, username=username, location=location, age_gate_passed=age_gate_passed)
    if not access.decision:
        return access
    room = privates.private_room(access.performer)
    if room is not None:
        talks, reads = _private_chat(viewer, access.performer, room)
        access = dataclasses.replace(
            access, can_post=access.can_post and talks, audience=room.audience if reads else None
        )
    show = current_show(access.performer)
    if show is None or free_to_watch(show) or access.is_moderator:
        return access
    watching = watch(Viewer(viewer, location, age_gate_passed), show)
    return access if watching else ChatAccess(watching)

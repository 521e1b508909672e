"""Performer writes: follows, stream keys, and the dashboard's room settings
(prices, topic, tip menu, tip goal, moderators, region blocks), each one
transaction with its audit row."""

from __future__ import annotations

import hashlib
import secrets
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError, transaction
from django.utils import timezone

from marquee.accounts.models import User
from marquee.audit.services import record_audit
from marquee.billing import prices  # a leaf module: the platform's one list of prices and limits
from marquee.lib import domain_events
from marquee.lib.errors import DomainError
from marquee.lib.fields import clip, max_length
from marquee.performers import regions
from marquee.performers.models import Follow, Performer, RegionBlock, RoomModerator, ShowKind, TipMenuItem


@transaction.atomic
def follow_performer(*, user, performer: Performer) -> bool:
    """Returns True when a new follow was created."""
    if user.pk == performer.user_id:
        return False
    try:
        with transaction.atomic():
            Follow.objects.create(user=user, performer=performer)
    except IntegrityError:
        return False
    domain_events.send("performer.followed", user_id=user.pk, performer_id=performer.pk)
    return True


@transaction.atomic
def unfollow_performer(*, user, performer: Performer) -> bool:
    deleted, _ = Follow.objects.filter(user=user, performer=performer).delete()
    return bool(deleted)


class ApplicationRefused(DomainError):
    """The user may not become a performer (message says why)."""


@transaction.atomic
def apply_as_performer(*, user, display_name: str, request=None) -> Performer:
    """Create the user's performer profile, unverified until staff review
    their documents.  Applying twice returns the existing profile."""
    if not user.is_adult:
        raise ApplicationRefused(
            "application_refused", "Only adults with a date of birth on file can apply to perform.", 403
        )
    display_name = display_name.strip()
    if not display_name:
        raise ApplicationRefused("bad_display_name", "Choose a display name.")
    performer, created = Performer.objects.get_or_create(
        user=user, defaults={"display_name": display_name, "verification_status": Performer.Verification.UNVERIFIED}
    )
    if created:
        record_audit(action="performer.applied", actor=user, request=request, target=performer)
    return performer


def hash_stream_key(secret: str) -> str:
    """Stream keys are 256-bit random secrets, so one SHA-256 is enough (no
    slow hash needed: there is nothing to brute-force)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def regenerate_stream_key(*, performer: Performer, actor=None, request=None) -> str:
    """A new stream key; the old one stops working at once (and a stream
    published with it is cut on its next media update).  Returns the secret:
    the only time it exists outside the publisher's OBS."""
    secret = secrets.token_urlsafe(32)
    had_key = bool(performer.stream_key_hash)
    performer.stream_key_hash = hash_stream_key(secret)
    performer.stream_key_rotated_at = timezone.now()
    performer.save(update_fields=["stream_key_hash", "stream_key_rotated_at"])
    record_audit(
        action="performer.stream_key_regenerated",
        actor=actor,
        request=request,
        target=performer,
        details={"replaced_key": had_key},
    )
    return secret


# --- room settings (the performer dashboard) ----------------------------------

TIP_MENU_MAX_ITEMS = 30
DEFAULT_KINDS = (ShowKind.PUBLIC, ShowKind.PREMIUM, ShowKind.SUBSCRIBERS)


class SettingsError(DomainError):
    """A refused room-settings change."""


def _check(check, *args, **kwargs) -> None:
    """Ask the platform's one prices module; answer in this form's error type."""
    try:
        check(*args, **kwargs)
    except prices.PriceError as exc:
        raise SettingsError(exc.code, exc.message) from None


@transaction.atomic
def update_room_settings(
    *,
    performer: Performer,
    default_show_kind: str,
    default_ticket_price_cents: int,
    subscription_price_cents: int,
    private_show_price_cents: int,
    room_topic: str,
    tip_goal_tokens: int,
    tip_goal_label: str,
    timezone_name: str,
    request=None,
) -> Performer:
    if default_show_kind not in DEFAULT_KINDS:
        raise SettingsError("bad_kind", "Default show kind must be public, premium or subscribers-only.")
    _check(prices.check_price_cents, default_ticket_price_cents, label="Ticket price")
    _check(prices.check_price_cents, subscription_price_cents, label="Subscription price")
    _check(prices.check_price_cents, private_show_price_cents, label="Private show price")
    _check(prices.check_tip_goal_tokens, tip_goal_tokens)
    try:
        ZoneInfo(timezone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError("bad_timezone", f"Unknown timezone “{timezone_name}”.") from None
    fields = {
        "default_show_kind": default_show_kind,
        "default_ticket_price_cents": default_ticket_price_cents,
        "subscription_price_cents": subscription_price_cents,
        "private_show_price_cents": private_show_price_cents,
        "room_topic": _short_text(room_topic, Performer, "room_topic", label="The room topic"),
        "tip_goal_tokens": tip_goal_tokens,
        "tip_goal_label": _short_text(tip_goal_label, Performer, "tip_goal_label", label="The tip goal label"),
        "timezone": timezone_name,
    }
    before = {name: getattr(performer, name) for name in fields}
    Performer.objects.filter(pk=performer.pk).update(**fields)
    performer.refresh_from_db()
    changed = {k: [before[k], v] for k, v in fields.items() if before[k] != v}
    record_audit(action="room.settings_changed", request=request, target=performer, details={"changed": changed})
    return performer


def _clean_tip_item(label: str, tokens) -> str:
    label = (label or "").strip()
    if not label:
        raise SettingsError("bad_label", "Give the tip-menu item a label.")
    _check(prices.check_tip_menu_tokens, tokens)
    return _short_text(label, TipMenuItem, "label", label="A tip-menu label")


def _short_text(value, model, field: str, *, label: str) -> str:
    """Stripped ``value``; longer than the column is a clear error, never a silent cut."""
    value = (value or "").strip()
    limit = max_length(model, field)
    if len(value) > limit:
        raise SettingsError("too_long", f"{label} is at most {limit} characters.")
    return value


def _lock_menu(performer: Performer) -> list[TipMenuItem]:
    """The performer's row lock serialises every change to one menu's order;
    returns the items in the order viewers see them."""
    Performer.objects.select_for_update().filter(pk=performer.pk).first()
    return list(TipMenuItem.objects.filter(performer=performer).order_by("position", "tokens", "pk"))


@transaction.atomic
def add_tip_menu_item(*, performer: Performer, label: str, tokens: int, request=None) -> TipMenuItem:
    label = _clean_tip_item(label, tokens)
    items = _lock_menu(performer)
    if len(items) >= TIP_MENU_MAX_ITEMS:
        raise SettingsError("too_many", f"The tip menu holds at most {TIP_MENU_MAX_ITEMS} items.")
    # Last, after whatever gaps removals left.
    position = max((item.position for item in items), default=-1) + 1
    item = TipMenuItem.objects.create(performer=performer, label=label, tokens=tokens, position=position)
    record_audit(action="room.tip_menu_added", request=request, target=item, details={"tokens": tokens})
    return item


@transaction.atomic
def update_tip_menu_item(*, performer: Performer, item_id: int, label: str, tokens: int, request=None) -> TipMenuItem:
    label = _clean_tip_item(label, tokens)
    item = TipMenuItem.objects.select_for_update().filter(performer=performer, pk=item_id).first()
    if item is None:
        raise SettingsError("not_found", "No such tip-menu item.", 404)
    before = {"label": item.label, "tokens": item.tokens}
    item.label, item.tokens = label, tokens
    item.save(update_fields=["label", "tokens"])
    record_audit(
        action="room.tip_menu_changed",
        request=request,
        target=item,
        details={"before": before, "after": {"label": label, "tokens": tokens}},
    )
    return item


@transaction.atomic
def reorder_tip_menu(*, performer: Performer, order: list[int], request=None) -> list[TipMenuItem]:
    """Put the menu in ``order`` (every item's id, each once)."""
    items = _lock_menu(performer)
    by_id = {item.pk: item for item in items}
    if sorted(order) != sorted(by_id):
        raise SettingsError("bad_order", "List every item of your tip menu exactly once.")
    ordered = [by_id[pk] for pk in order]
    changed = []
    for position, item in enumerate(ordered):
        if item.position != position:
            item.position = position
            changed.append(item)
    TipMenuItem.objects.bulk_update(changed, ["position"])
    if changed:
        record_audit(action="room.tip_menu_reordered", request=request, target=performer, details={"order": order})
    return ordered


@transaction.atomic
def move_tip_menu_item(*, performer: Performer, item_id: int, offset: int, request=None) -> bool:
    """One place up (-1) or down (+1); False at either end."""
    if offset not in (-1, 1):
        raise SettingsError("bad_move", "Move an item one place up or down.")
    ids = [item.pk for item in _lock_menu(performer)]
    if item_id not in ids:
        raise SettingsError("not_found", "No such tip-menu item.", 404)
    index = ids.index(item_id)
    target = index + offset
    if not 0 <= target < len(ids):
        return False
    ids[index], ids[target] = ids[target], ids[index]
    reorder_tip_menu(performer=performer, order=ids, request=request)
    return True


@transaction.atomic
def remove_tip_menu_item(*, performer: Performer, item_id: int, request=None) -> bool:
    deleted, _ = TipMenuItem.objects.filter(performer=performer, pk=item_id).delete()
    if deleted:
        record_audit(action="room.tip_menu_removed", request=request, target=performer, details={"item": item_id})
    return bool(deleted)


@transaction.atomic
def appoint_moderator(*, performer: Performer, username: str, request=None) -> RoomModerator:
    user = User.objects.filter(username__iexact=username.strip()).first()
    if user is None:
        raise SettingsError("no_such_user", f"No user called “{username.strip()}”.")
    if user.pk == performer.user_id:
        raise SettingsError("self", "You already moderate your own room.")
    try:
        with transaction.atomic():
            moderator = RoomModerator.objects.create(performer=performer, user=user)
    except IntegrityError:
        raise SettingsError("duplicate", f"{user.username} is already a moderator.", 409) from None
    record_audit(action="room.moderator_appointed", request=request, target=performer, details={"user": user.pk})
    return moderator


@transaction.atomic
def remove_moderator(*, performer: Performer, user_id: int, request=None) -> bool:
    deleted, _ = RoomModerator.objects.filter(performer=performer, user_id=user_id).delete()
    if deleted:
        record_audit(action="room.moderator_removed", request=request, target=performer, details={"user": user_id})
    return bool(deleted)


@transaction.atomic
def add_region_block(*, performer: Performer, region: str, request=None) -> RegionBlock:
    parsed = regions.parse_region(region)
    if parsed is None:
        raise SettingsError("bad_region", f"Unknown region “{region}”. Use a country code (FR) or US-TX / GB-SCT.")
    country, sub = parsed
    try:
        with transaction.atomic():
            block = RegionBlock.objects.create(performer=performer, country=country, subdivision=sub)
    except IntegrityError:
        raise SettingsError("duplicate", f"{regions.region_label(country, sub)} is already blocked.", 409) from None
    record_audit(action="room.region_blocked", request=request, target=performer, details={"region": str(block)})
    # On commit: what runs in the room for viewers there now must stop (privates end theirs).
    domain_events.send("performer.region_blocked", performer_id=performer.pk, region=str(block))
    return block


@transaction.atomic
def remove_region_block(*, performer: Performer, block_id: int, request=None) -> bool:
    block = RegionBlock.objects.filter(performer=performer, pk=block_id).first()
    if block is None:
        return False
    block.delete()
    record_audit(action="room.region_unblocked", request=request, target=performer, details={"region": str(block)})
    return True


# --- staff actions (admin) ---------------------------------------------------


def suspend_performer(*, performer: Performer, actor, reason: str, request=None) -> bool:
    """Staff suspend a room: no going live, selling or being listed; a live
    stream is cut at the media server's next update (``check_publish``)."""
    reason = clip((reason or "").strip(), Performer, "suspended_reason") or "Suspended by staff."
    with transaction.atomic():
        if not Performer.objects.filter(pk=performer.pk, is_suspended=False).update(
            is_suspended=True, suspended_reason=reason
        ):
            return False
        record_audit(
            action="performer.suspended", actor=actor, request=request, target=performer, details={"reason": reason}
        )
    performer.refresh_from_db()
    return True


def unsuspend_performer(*, performer: Performer, actor, request=None) -> bool:
    with transaction.atomic():
        if not Performer.objects.filter(pk=performer.pk, is_suspended=True).update(
            is_suspended=False, suspended_reason=""
        ):
            return False
        record_audit(action="performer.unsuspended", actor=actor, request=request, target=performer)
    performer.refresh_from_db()
    return True

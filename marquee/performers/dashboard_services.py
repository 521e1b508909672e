"""Writes of the performer dashboard's room settings: prices, topic, tip menu,
tip goal, moderators, region blocks.  Each is one transaction with its audit row."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError, transaction

from marquee.accounts.models import User
from marquee.audit.services import record_audit
from marquee.billing import prices  # a leaf module: the platform's one list of prices and limits
from marquee.lib.errors import DomainError
from marquee.performers import regions
from marquee.performers.models import Performer, RegionBlock, RoomModerator, ShowKind, TipMenuItem

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
        "room_topic": room_topic.strip()[:200],
        "tip_goal_tokens": tip_goal_tokens,
        "tip_goal_label": tip_goal_label.strip()[:120],
        "timezone": timezone_name,
    }
    before = {name: getattr(performer, name) for name in fields}
    Performer.objects.filter(pk=performer.pk).update(**fields)
    performer.refresh_from_db()
    changed = {k: [before[k], v] for k, v in fields.items() if before[k] != v}
    record_audit(action="room.settings_changed", request=request, target=performer, details={"changed": changed})
    return performer


@transaction.atomic
def add_tip_menu_item(*, performer: Performer, label: str, tokens: int, request=None) -> TipMenuItem:
    label = label.strip()
    if not label:
        raise SettingsError("bad_label", "Give the tip-menu item a label.")
    _check(prices.check_tip_menu_tokens, tokens)
    if performer.tip_menu.count() >= TIP_MENU_MAX_ITEMS:
        raise SettingsError("too_many", f"The tip menu holds at most {TIP_MENU_MAX_ITEMS} items.")
    item = TipMenuItem.objects.create(
        performer=performer, label=label[:80], tokens=tokens, position=performer.tip_menu.count()
    )
    record_audit(action="room.tip_menu_added", request=request, target=item, details={"tokens": tokens})
    return item


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
    return block


@transaction.atomic
def remove_region_block(*, performer: Performer, block_id: int, request=None) -> bool:
    block = RegionBlock.objects.filter(performer=performer, pk=block_id).first()
    if block is None:
        return False
    block.delete()
    record_audit(action="room.region_unblocked", request=request, target=performer, details={"region": str(block)})
    return True

"""Reads and access checks for chat."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from marquee.chat.models import ChatBan, ChatMessage, ChatRoomRules, ModerationAction
from marquee.compliance import policy
from marquee.lib.decisions import Decision, deny
from marquee.lib.geo import Location
from marquee.performers.models import Performer
from marquee.performers.selectors import is_room_moderator


@dataclass(frozen=True)
class ChatAccess:
    decision: Decision
    performer: Performer | None = None
    can_post: bool = False
    is_moderator: bool = False
    role: str = "viewer"
    # The private chat this socket may read besides the room's ("p12": private
    # show 12; None: only the public chat).  Set by ``access.chat``.
    audience: str | None = None


def get_room(username: str) -> Performer | None:
    return Performer.objects.select_related("user").filter(user__username=username).first()


def active_restriction(user, performer) -> ChatBan | None:
    """The ban or timeout keeping ``user`` from this room (or site-wide)."""
    now = timezone.now()
    return (
        ChatBan.objects.filter(user=user, lifted_at__isnull=True)
        .filter(Q(performer=performer) | Q(performer__isnull=True))
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("kind", "-expires_at")  # bans before timeouts
        .first()
    )


def access_chat(*, viewer, username: str, location: Location, age_gate_passed: bool) -> ChatAccess:
    """May ``viewer`` (maybe anonymous) at ``location`` read this room's chat, and post?"""
    performer = get_room(username)
    if performer is None:
        return ChatAccess(deny("not_found", "This room does not exist.", 404))
    decision = policy.can_view_performer(viewer, performer, location)
    if not decision:
        return ChatAccess(decision)
    decision = policy.can_view_adult_content(viewer, location)
    if not decision:
        return ChatAccess(decision)
    if viewer is None or not viewer.is_authenticated:
        if settings.AGE_GATE_ENABLED and not age_gate_passed:
            return ChatAccess(deny("age_gate", "Confirm your age on the site first.", 401))
        if not performer.anonymous_can_read_chat:
            return ChatAccess(deny("not_authenticated", "Log in to read this chat.", 401))
        return ChatAccess(Decision(True), performer)
    if not viewer.is_active:
        return ChatAccess(deny("not_authenticated", "This account is disabled.", 401))
    restriction = active_restriction(viewer, performer)
    if restriction is not None and restriction.kind == ChatBan.Kind.BAN:
        return ChatAccess(deny("banned", "You are banned from this chat.", 403))
    moderator = is_room_moderator(viewer, performer)
    role = "performer" if viewer.pk == performer.user_id else ("moderator" if moderator else "viewer")
    return ChatAccess(Decision(True), performer, can_post=True, is_moderator=moderator, role=role)


def room_rules(performer) -> ChatRoomRules | None:
    return ChatRoomRules.objects.filter(performer=performer).first()


_RULE_FIELDS = ("overrides", "blocked_words", "regex_rules", "secret_words")


def posting_rules(performer) -> tuple[ChatRoomRules | None, int]:
    """The room's moderation rules (None: the defaults) and its manual slow
    mode in seconds: one query, as every post reads both."""
    row = (
        Performer.objects.filter(pk=performer.pk)
        .values_list("chat_slow_mode_seconds", "chat_rules__pk", *(f"chat_rules__{f}" for f in _RULE_FIELDS))
        .first()
    )
    if row is None:
        return None, 0
    slow, rules_pk, *values = row
    rules = None
    if rules_pk is not None:
        rules = ChatRoomRules(pk=rules_pk, performer=performer, **dict(zip(_RULE_FIELDS, values, strict=True)))
    return rules, slow or 0


def visible_messages(
    username: str, *, before: int | None, limit: int, audience: str | None = None
) -> list[ChatMessage]:
    """Published, not deleted messages of a room, oldest first, before an id:
    the public chat, and the private chat of ``audience`` if given."""
    rows = ChatMessage.objects.filter(performer__user__username=username, state=ChatMessage.State.VISIBLE)
    rows = rows.filter(Q(audience="") | Q(audience=audience or ""))
    if before is not None:
        rows = rows.filter(seq__lt=before)
    return list(reversed(rows.order_by("-seq")[:limit]))


def held_messages(performer) -> list[ChatMessage]:
    return list(ChatMessage.objects.filter(performer=performer, state=ChatMessage.State.HELD).order_by("created_at"))


def moderation_log(performer, *, limit: int = 100):
    return ModerationAction.objects.filter(performer=performer).select_related("actor", "target_user")[:limit]

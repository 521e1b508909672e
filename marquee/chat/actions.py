"""What every moderator action shares, used by ``services`` (moderator tools)
and ``bans`` (restrictions): the error they raise, the room's name, the
moderator check, and the room log + audit row written for each action."""

from __future__ import annotations

from marquee.audit.services import record_audit
from marquee.chat.models import ModerationAction
from marquee.lib.errors import DomainError
from marquee.performers.selectors import is_room_moderator


class ChatError(DomainError):
    """A refused chat or moderation action."""


def room_name(performer) -> str:
    return performer.user.username


def require_moderator(actor, performer) -> None:
    if not is_room_moderator(actor, performer):
        raise ChatError("forbidden", "Only the performer and the room's moderators can do that.", 403)


def log_action(*, actor, performer, action: str, target_user=None, details: dict | None = None, ip: str = "") -> None:
    ModerationAction.objects.create(
        performer=performer, actor=actor, action=action, target_user=target_user, details=details or {}
    )
    record_audit(
        action=f"chat.{action}",
        actor=actor,
        ip=ip,
        target=performer,
        details={**(details or {}), **({"user_id": target_user.pk} if target_user else {})},
    )

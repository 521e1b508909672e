"""Moderator commands sent over the chat socket (delete, timeout, ban, …),
each one call to ``marquee.chat.services``."""

from __future__ import annotations

from marquee.chat import services
from marquee.chat.connection import Connection


def _user_named(username):
    from marquee.accounts.models import User

    user = User.objects.filter(username=str(username)).first()
    if user is None:
        raise services.ChatError("not_found", "No such user.", 404)
    return user


def run_mod_action(conn: Connection, data: dict) -> None:
    action = data.get("action")
    common = {"actor": conn.user, "performer": conn.performer, "ip": conn.ip}
    if action == "delete":
        services.delete_message(**common, message_id=int(data["message_id"]))
    elif action == "timeout":
        services.timeout_user(
            **common,
            target=_user_named(data["user"]),
            seconds=int(data.get("seconds", 300)),
            reason=str(data.get("reason", ""))[:200],
        )
    elif action == "ban":
        services.ban_user(**common, target=_user_named(data["user"]), reason=str(data.get("reason", ""))[:200])
    elif action == "unban":
        services.lift_restrictions(**common, target=_user_named(data["user"]))
    elif action == "clear":
        services.clear_user_messages(**common, target=_user_named(data["user"]))
    elif action == "slow_mode":
        services.set_slow_mode(**common, seconds=int(data["seconds"]))
    elif action in ("approve", "reject"):
        services.review_held(**common, held_id=int(data["held_id"]), approve=action == "approve")
    else:
        raise services.ChatError("unknown_action", "Unknown moderation action.")

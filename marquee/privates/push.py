"""The privates' domain events, pushed over the chat sockets (issue 13,
"Real time"): ``private_requested`` to the performer, ``private_started`` /
``private_ended`` to the room, ``charge`` to the payer.  The events carry no
entitlement: a player hearing ``private_started`` asks the room API (the
entitlement module) what it may play now.  Receivers run after commit (the
signal is sent on commit) and only publish."""

from __future__ import annotations

from marquee.ledger import selectors as ledger
from marquee.lib import realtime
from marquee.privates import selectors
from marquee.privates.models import PrivateShow

_ENDS = ("private.ended", "private.declined", "private.expired", "private.cancelled")


def _to_user(user_id: int, room: str, event: dict) -> None:
    """One user's sockets in ``room`` get ``event`` (the chat socket forwards it)."""
    realtime.publish_user_event(user_id, {"type": "room_push", "room": room, "event": event})


def _recheck_room(room: str) -> None:
    """Every socket in the room re-asks what it may do (chat is the payer's now, or everyone's again)."""
    realtime.publish_moderator_event(room, {"type": "recheck_rights"})


def _group_event(event: dict) -> None:
    """A group show starting or ending takes the room private or public, as a private does."""
    group = selectors.group_show(event["id"])
    if group is None:
        return
    room = group.performer.username
    if event["type"] == "group.started":
        realtime.publish_room_event(room, {"type": "private_started", "private_id": group.pk, "kind": "group"})
    else:
        realtime.publish_room_event(
            room, {"type": "private_ended", "private_id": group.pk, "kind": "group", "reason": event.get("reason")}
        )
    _recheck_room(room)


def on_event(sender, event: dict, **kwargs) -> None:
    if event["type"] in ("group.started", "group.ended"):
        return _group_event(event)
    session = selectors.session(event["id"]) if event["type"].startswith("private.") else None
    if session is None:
        return
    room = session.performer.username
    kind = event["type"]
    if kind == "private.requested":
        payer = session.payer
        _to_user(
            session.performer.user_id,
            room,
            {
                "type": "private_requested",
                "private_id": session.pk,
                "kind": session.kind,
                "viewer": payer.username,
                "member_since": payer.date_joined.isoformat(),
                "rate_tokens": session.rate_tokens,
                "minimum_minutes": session.minimum_periods,
                "expires_at": session.expires_at.isoformat() if session.expires_at else None,
            },
        )
    elif kind == "private.accepted":
        realtime.publish_room_event(room, {"type": "private_started", "private_id": session.pk, "kind": session.kind})
        _recheck_room(room)
    elif kind == "private.spy_joined":
        _recheck_room(room)
    elif kind in ("private.charged", "private.low_funds"):
        _to_user(
            session.payer_id,
            room,
            {
                "type": "charge",
                "private_id": session.pk,
                "period": event.get("period", session.periods_charged),
                "tokens": event.get("tokens", 0),
                "balance_tokens": ledger.wallet_balance(session.payer),
                "available_tokens": ledger.available_tokens(session.payer),
                "warning": kind == "private.low_funds",
            },
        )
    elif kind in _ENDS:
        if session.kind in (PrivateShow.Kind.PRIVATE, PrivateShow.Kind.EXCLUSIVE) and session.started_at:
            realtime.publish_room_event(
                room, {"type": "private_ended", "private_id": session.pk, "reason": session.end_reason}
            )
            _recheck_room(room)
        else:
            # A request answered, expired or withdrawn, or a spy's session over: the two sides only.
            ended = {"type": "private_ended", "private_id": session.pk, "reason": session.end_reason}
            for user_id in event["user_ids"]:
                _to_user(user_id, room, ended)

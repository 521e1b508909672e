"""Delivery of room and user events to open sockets.

Placeholder until the chat issue lands its per-room pub/sub fan-out: events
are dropped when nobody can receive them yet."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def publish_room_event(room: str, event: dict) -> None:
    logger.debug("room event %s: %s", room, event.get("type"))


def publish_user_event(user_id: int, event: dict) -> None:
    logger.debug("user event %s: %s", user_id, event.get("type"))

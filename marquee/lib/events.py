"""The one way to push real-time events to rooms.

Services call ``send_room_event`` inside their transaction; the event leaves
only after the transaction commits, so nobody ever sees something that was
rolled back.  Delivery (Redis pub/sub or in-process fan-out) lives in
``marquee.lib.realtime``.
"""

from __future__ import annotations

from django.db import transaction

from marquee.lib import realtime


def send_room_event(room: str, event_type: str, payload: dict | None = None) -> None:
    event = {"type": event_type, **(payload or {})}

    def _publish():
        realtime.publish_room_event(room, event)

    transaction.on_commit(_publish)


def send_user_event(user_id: int, event_type: str, payload: dict | None = None) -> None:
    """Events for one user's open sockets (e.g. logout closes them)."""
    event = {"type": event_type, **(payload or {})}

    def _publish():
        realtime.publish_user_event(user_id, event)

    transaction.on_commit(_publish)

"""Writes of private, exclusive, spy and group shows, by job: ``core``
(shared steps: holds, periods, closing), ``requests`` (settings, request /
accept / decline / end, spies), ``groups`` and ``worker`` (media hooks,
ticks, sweeper).  Callers import from here."""

from marquee.privates.services import recordings
from marquee.privates.services.core import PrivateError, periods_owed, periods_started
from marquee.privates.services.groups import announce_group_show, end_group_show, join_group_show
from marquee.privates.services.requests import (
    accept,
    decline,
    end_private,
    end_region_blocked,
    join_spy,
    request_private,
    update_room_settings,
)
from marquee.privates.services.worker import (
    bill_due_periods,
    broadcast_ended,
    expire_requests,
    fail_due_group_shows,
    payer_blocked,
    stream_dropped,
    stream_resumed,
    sweep_holds,
)

__all__ = [
    "PrivateError",
    "accept",
    "announce_group_show",
    "bill_due_periods",
    "broadcast_ended",
    "decline",
    "end_group_show",
    "end_private",
    "end_region_blocked",
    "expire_requests",
    "fail_due_group_shows",
    "join_group_show",
    "join_spy",
    "payer_blocked",
    "periods_owed",
    "periods_started",
    "recordings",
    "request_private",
    "stream_dropped",
    "stream_resumed",
    "sweep_holds",
    "update_room_settings",
]

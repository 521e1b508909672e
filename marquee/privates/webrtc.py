"""Ending a private closes its WebRTC peers (WHEP viewers, cam2cam) at once:
a receiver of the private's end event, sent on commit (``privates.events``).
A private ended in another process is caught by each peer's recheck."""

from __future__ import annotations

from marquee.shows.webrtc_egress import egress

# Every way a session stops being watchable (ended, and the states a
# never-started one ends in, for completeness).
CLOSING_EVENTS = {"private.ended", "private.cancelled", "private.declined", "private.expired"}


def on_event(sender, event, **kwargs) -> None:
    if event.get("type") in CLOSING_EVENTS and egress.peers_of(event["id"]):
        egress.close_tag(event["id"])

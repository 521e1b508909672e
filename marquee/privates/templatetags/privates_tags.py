"""The room's private-show panel: first paint from the entitlement module's
answer; static/js/private.js takes over (requests, answers, charges)."""

from __future__ import annotations

from django import template

from marquee.access import selectors as access
from marquee.privates import selectors

register = template.Library()


@register.inclusion_tag("privates/_panel.html", takes_context=True)
def private_panel(context, performer):
    request = context["request"]
    viewer = access.Viewer.from_request(request)
    offer = access.private_offer(viewer, performer)
    own_room = viewer.owns(performer)
    mine = selectors.open_session(viewer.user, performer) if viewer.authenticated and not own_room else None
    return {
        "performer": performer,
        "offer": offer,
        "own_room": own_room,
        "pending": list(selectors.pending_requests(performer)) if own_room else [],
        "running": selectors.active_private(performer) if own_room else None,
        "mine": mine,
        "hold_tokens": offer["rate_tokens"] * offer["minimum_minutes"] if offer else 0,
        "private": access.private_state(viewer, performer),
        "request": request,
    }


@register.inclusion_tag("privates/_recordings.html", takes_context=True)
def private_recordings(context):
    """The buyer's private-show recordings, for their purchases page (each
    link signed for them; fetching asks ``access.watch_recording`` again)."""
    user = context["request"].user
    recordings = list(selectors.recordings_for(user)[:50]) if user.is_authenticated else []
    for recording in recordings:
        if recording.status == recording.Status.READY:
            recording.url = selectors.signed_recording_url(recording, user)
    return {"recordings": recordings}

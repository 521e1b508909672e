import datetime

from django import template

from marquee.access import selectors as access

register = template.Library()


@register.inclusion_tag("shows/player.html", takes_context=True)
def room_player(context, performer):
    """The room's player: first paint from the same state the room API
    returns; static/js/player.js takes over from there."""
    request = context["request"]
    state = access.room_state(access.Viewer.from_request(request), performer)
    since = (state.get("paywall") or {}).get("started_at")
    return {
        "performer": performer,
        "state": state,
        "paywall_since": datetime.datetime.fromisoformat(since) if since else None,
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }

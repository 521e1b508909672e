from django import template

from marquee.compliance.geo import location_for_request
from marquee.shows import selectors

register = template.Library()


@register.inclusion_tag("shows/player.html", takes_context=True)
def room_player(context, performer):
    """The room's player: first paint from the same state the room API
    returns; static/js/player.js takes over from there."""
    request = context["request"]
    state = selectors.room_state(request.user, performer, location_for_request(request))
    return {
        "performer": performer,
        "state": state,
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }

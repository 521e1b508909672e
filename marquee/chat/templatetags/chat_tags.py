from django import template

from marquee.chat.routing import chat_socket_path
from marquee.performers.selectors import is_room_moderator

register = template.Library()


@register.inclusion_tag("chat/_panel_body.html", takes_context=True)
def chat_panel(context):
    request = context["request"]
    performer = context["performer"]
    return {
        "room": performer.user.username,
        "socket_path": chat_socket_path(performer.user.username),
        "user": request.user,
        "is_moderator": is_room_moderator(request.user, performer),
        "request": request,
    }

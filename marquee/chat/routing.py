from django.urls import URLResolver, get_script_prefix, path
from django.urls.resolvers import RegexPattern

from marquee.chat.consumers import ChatSocket

CHAT_SOCKET = "chat_socket"

websocket_urlpatterns: list = [
    path("ws/rooms/<str:username>/chat/", ChatSocket(), name=CHAT_SOCKET),
]


def chat_socket_path(username: str) -> str:
    """The room's chat WebSocket path, reversed from the routes above (Channels'
    routes are not in ROOT_URLCONF, so ``{% url %}`` cannot build it)."""
    resolver = URLResolver(RegexPattern(r"^/"), websocket_urlpatterns)
    return get_script_prefix() + resolver.reverse(CHAT_SOCKET, username=username)

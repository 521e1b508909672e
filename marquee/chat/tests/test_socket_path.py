"""The chat panel's WebSocket path comes from the socket routes
(chat/routing.py), not a second copy in the template."""

from __future__ import annotations

import pytest
from django.urls import URLResolver, path
from django.urls.resolvers import RegexPattern

from marquee.chat import routing
from marquee.chat.consumers import ChatSocket


def test_built_path_is_the_public_one_and_resolves_to_the_room_socket():
    built = routing.chat_socket_path("stage")
    assert built == "/ws/rooms/stage/chat/"  # docs/chat-protocol.md, DESIGN.md
    match = URLResolver(RegexPattern(r"^/"), routing.websocket_urlpatterns).resolve(built)
    assert isinstance(match.func, ChatSocket) and match.kwargs == {"username": "stage"}


@pytest.mark.django_db
def test_room_page_follows_the_socket_route(client, viewer, performer, monkeypatch):
    client.force_login(viewer)
    moved = [path("sockets/<str:username>/talk/", ChatSocket(), name=routing.CHAT_SOCKET)]
    monkeypatch.setattr(routing, "websocket_urlpatterns", moved)
    html = client.get(f"/rooms/{performer.user.username}/").content.decode()
    assert f'data-ws-path="/sockets/{performer.user.username}/talk/"' in html
    assert "/ws/rooms/" not in html

from django.urls import path

from marquee.chat.consumers import ChatSocket

websocket_urlpatterns: list = [
    path("ws/rooms/<str:username>/chat/", ChatSocket()),
]

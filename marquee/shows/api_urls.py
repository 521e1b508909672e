from django.urls import path

from marquee.shows import api

urlpatterns = [
    path("rooms/<str:username>/", api.RoomView.as_view(), name="api_room"),
    path("me/stream-key/", api.StreamKeyView.as_view(), name="api_stream_key"),
]

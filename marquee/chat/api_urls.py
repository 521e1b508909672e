from django.urls import path

from marquee.chat import api

urlpatterns = [
    path("rooms/<str:username>/messages/", api.RoomMessagesView.as_view(), name="api_room_messages"),
    path("rooms/<str:username>/moderation/log/", api.ModerationLogView.as_view(), name="api_moderation_log"),
    path("rooms/<str:username>/moderation/held/", api.HeldMessagesView.as_view(), name="api_held_messages"),
]

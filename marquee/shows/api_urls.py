from django.urls import path

from marquee.shows import api, whip_api

urlpatterns = [
    path("rooms/<str:username>/", api.RoomView.as_view(), name="api_room"),
    path("me/stream-key/", api.StreamKeyView.as_view(), name="api_stream_key"),
    path("me/whip/", whip_api.WhipView.as_view(), name="api_whip"),
    path("me/whip/<str:session_id>/", whip_api.WhipSessionView.as_view(), name="api_whip_session"),
]

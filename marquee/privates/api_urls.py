from django.urls import path

import marquee.lib.converters  # noqa: F401  (registers <id:…>)
from marquee.privates import api, webrtc_api

urlpatterns = [
    path("rooms/<str:username>/private/", api.RoomPrivateView.as_view(), name="api_room_private"),
    path("private/<id:pk>/", api.PrivateShowView.as_view(), name="api_private"),
    path("private/<id:pk>/end/", api.PrivateEndView.as_view(), name="api_private_end"),
    path("private/<id:pk>/whep/", webrtc_api.WhepView.as_view(), name="api_private_whep"),
    path("private/<id:pk>/cam2cam/", webrtc_api.Cam2CamView.as_view(), name="api_private_cam2cam"),
    path("private/<id:pk>/cam2cam/whep/", webrtc_api.Cam2CamWhepView.as_view(), name="api_private_cam2cam_whep"),
    path("private/<id:pk>/webrtc/<str:peer_id>/", webrtc_api.PeerView.as_view(), name="api_private_webrtc_peer"),
    path("group-shows/<id:pk>/join/", api.GroupJoinView.as_view(), name="api_group_join"),
    path("dashboard/private/", api.PrivateRequestsView.as_view(), name="api_dashboard_private_requests"),
    path(
        "dashboard/private/<id:pk>/accept/", api.PrivateAnswerView.as_view(answer="accept"), name="api_private_accept"
    ),
    path(
        "dashboard/private/<id:pk>/decline/",
        api.PrivateAnswerView.as_view(answer="decline"),
        name="api_private_decline",
    ),
    path("dashboard/private-settings/", api.PrivateSettingsView.as_view(), name="api_dashboard_private_settings"),
    path("dashboard/group-shows/", api.GroupShowsView.as_view(), name="api_dashboard_group_shows"),
]

from django.urls import path

import marquee.lib.converters  # noqa: F401  (registers <id:…>)
from marquee.privates import api

urlpatterns = [
    path("rooms/<str:username>/private/", api.RoomPrivateView.as_view(), name="api_room_private"),
    path("private/<id:pk>/", api.PrivateShowView.as_view(), name="api_private"),
    path("private/<id:pk>/end/", api.PrivateEndView.as_view(), name="api_private_end"),
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

from django.urls import path

import marquee.lib.converters  # noqa: F401  (registers <id:…>)
from marquee.performers import api

urlpatterns = [
    path("performers/", api.PerformerListView.as_view(), name="api_performers"),
    path("performers/<str:username>/", api.PerformerDetailView.as_view(), name="api_performer"),
    path("performers/<str:username>/follow/", api.FollowView.as_view(), name="api_follow"),
    path("me/performer/", api.MyPerformerView.as_view(), name="api_my_performer"),
    path("me/follows/", api.FollowsView.as_view(), name="api_follows"),
]

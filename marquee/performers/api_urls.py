from django.urls import path

import marquee.lib.converters  # noqa: F401  (registers <id:…>)
from marquee.earnings import api_urls as earnings_api_urls
from marquee.performers import api, dashboard_api

urlpatterns = [
    path("performers/", api.PerformerListView.as_view(), name="api_performers"),
    path("performers/<str:username>/", api.PerformerDetailView.as_view(), name="api_performer"),
    path("performers/<str:username>/follow/", api.FollowView.as_view(), name="api_follow"),
    path("me/performer/", api.MyPerformerView.as_view(), name="api_my_performer"),
    path("me/follows/", api.FollowsView.as_view(), name="api_follows"),
    path("dashboard/", dashboard_api.DashboardView.as_view(), name="api_dashboard"),
    path("dashboard/room/", dashboard_api.RoomSettingsView.as_view(), name="api_dashboard_room"),
    path("dashboard/room/tip-menu/", dashboard_api.TipMenuView.as_view(), name="api_dashboard_tip_menu"),
    path(
        "dashboard/room/tip-menu/<id:item_id>/", dashboard_api.TipMenuItemView.as_view(), name="api_dashboard_tip_item"
    ),
    path("dashboard/room/moderators/", dashboard_api.ModeratorsView.as_view(), name="api_dashboard_moderators"),
    path(
        "dashboard/room/moderators/<id:user_id>/",
        dashboard_api.ModeratorView.as_view(),
        name="api_dashboard_moderator",
    ),
    path("dashboard/room/regions/", dashboard_api.RegionBlocksView.as_view(), name="api_dashboard_regions"),
    path("dashboard/room/regions/<id:block_id>/", dashboard_api.RegionBlockView.as_view(), name="api_dashboard_region"),
    *earnings_api_urls.urlpatterns,
]

from django.urls import path

import marquee.lib.converters  # noqa: F401  (registers <id:…>)
from marquee.dashboard import api

urlpatterns = [
    path("dashboard/", api.DashboardView.as_view(), name="api_dashboard"),
    path("dashboard/room/", api.RoomSettingsView.as_view(), name="api_dashboard_room"),
    path("dashboard/room/tip-menu/", api.TipMenuView.as_view(), name="api_dashboard_tip_menu"),
    path("dashboard/room/tip-menu/order/", api.TipMenuOrderView.as_view(), name="api_dashboard_tip_menu_order"),
    path("dashboard/room/tip-menu/<id:item_id>/", api.TipMenuItemView.as_view(), name="api_dashboard_tip_item"),
    path("dashboard/room/moderators/", api.ModeratorsView.as_view(), name="api_dashboard_moderators"),
    path(
        "dashboard/room/moderators/<id:user_id>/",
        api.ModeratorView.as_view(),
        name="api_dashboard_moderator",
    ),
    path("dashboard/room/regions/", api.RegionBlocksView.as_view(), name="api_dashboard_regions"),
    path("dashboard/room/regions/<id:block_id>/", api.RegionBlockView.as_view(), name="api_dashboard_region"),
]

from django.urls import path

from marquee.earnings import urls as earnings_urls
from marquee.performers import dashboard_views

urlpatterns = [
    path("dashboard/", dashboard_views.index, name="dashboard"),
    path("dashboard/room/", dashboard_views.room_settings, name="dashboard_room"),
    path("dashboard/room/tip-menu/", dashboard_views.tip_menu, name="dashboard_tip_menu"),
    path("dashboard/room/moderators/", dashboard_views.moderators, name="dashboard_moderators"),
    path("dashboard/room/regions/", dashboard_views.region_blocks, name="dashboard_regions"),
    *earnings_urls.urlpatterns,
]

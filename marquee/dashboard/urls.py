from django.urls import path

from marquee.dashboard import views

urlpatterns = [
    path("dashboard/", views.index, name="dashboard"),
    path("dashboard/profile/", views.profile_settings, name="dashboard_profile"),
    path("dashboard/room/", views.room_settings, name="dashboard_room"),
    path("dashboard/room/tip-menu/", views.tip_menu, name="dashboard_tip_menu"),
    path("dashboard/room/moderators/", views.moderators, name="dashboard_moderators"),
    path("dashboard/room/regions/", views.region_blocks, name="dashboard_regions"),
]

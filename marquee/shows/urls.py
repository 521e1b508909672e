from django.urls import path

from marquee.shows import golive_views, schedule_urls, views

urlpatterns = [
    path("media/hooks/<str:event>/", views.media_hook, name="media_hook"),
    path("rooms/<str:username>/thumbnail.jpg", views.live_thumbnail, name="live_thumbnail"),
    path("dashboard/stream/", views.stream_settings, name="stream_settings"),
    path("me/live-alerts/", golive_views.live_alerts, name="live_alerts"),
    path("push-sw.js", golive_views.service_worker, name="push_service_worker"),
    *schedule_urls.urlpatterns,
]

from django.urls import path

from marquee.shows import views

urlpatterns = [
    path("media/hooks/<str:event>/", views.media_hook, name="media_hook"),
    path("rooms/<str:username>/thumbnail.jpg", views.live_thumbnail, name="live_thumbnail"),
    path("dashboard/stream/", views.stream_settings, name="stream_settings"),
]

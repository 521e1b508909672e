from django.urls import path

from marquee.performers import views

urlpatterns = [
    path("", views.home, name="home"),
    path("rooms/<str:username>/", views.room, name="room"),
    path("rooms/<str:username>/follow/", views.follow, name="follow"),
    path("performers/<str:username>/", views.profile, name="profile"),
    path("become-a-performer/", views.apply, name="performer_apply"),
]

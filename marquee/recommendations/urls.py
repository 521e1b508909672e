from django.urls import path

from marquee.recommendations import views

urlpatterns = [
    path("recommendations/hide/<str:username>/", views.hide, name="recommendations_hide"),
]
